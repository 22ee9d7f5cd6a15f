/* iov-compare-panel.c — a trace replayed under every release: what each did
 *
 * Copyright 2026 The Iovista authors
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */


#define G_LOG_DOMAIN "iov-compare-panel"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-compare-panel.h"

struct _IovComparePanel
{
  GtkBox         parent_instance;

  GtkLabel      *headline;
  GtkLabel      *summary;
  GtkGrid       *grid;
  GtkLabel      *assumptions;  /* what the replay cannot know */
  IovCompareRun *run;
  GArray        *lines;      /* guint64: divergence and abort lines, sorted, unique */
  GHashTable    *aborts;     /* line → TRUE: a release aborts there */
  GHashTable    *by_notifier; /* notifier name → "5.0–5.2 abort · 6.0+ cropped", for the lanes */
};

G_DEFINE_FINAL_TYPE (IovComparePanel, iov_compare_panel, GTK_TYPE_BOX)

GtkWidget *
iov_compare_panel_new (void)
{
  return g_object_new (IOV_TYPE_COMPARE_PANEL, NULL);
}

static int
compare_lines (gconstpointer a,
               gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static JsonObject *
result_root (IovComparePanel *self)
{
  return self->run ? json_node_get_object (self->run->result) : NULL;
}

static JsonObject *
outcomes_of (IovComparePanel *self,
             guint64          line)
{
  JsonArray *divergences = json_object_get_array_member (result_root (self), "divergences");

  for (guint i = 0; i < json_array_get_length (divergences); i++)
    {
      JsonObject *d = json_array_get_object_element (divergences, i);

      if ((guint64) json_object_get_int_member (d, "line") == line)
        return json_object_get_object_member (d, "outcomes");
    }
  return NULL;
}

static void
clear_grid (IovComparePanel *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->grid))) != NULL)
    gtk_grid_remove (self->grid, child);
}

static void
cell (IovComparePanel *self,
      const char      *text,
      int              column,
      int              row,
      gboolean         heading)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (heading)
    gtk_widget_add_css_class (label, "heading");
  else if (g_strcmp0 (text, "abort") == 0)
    gtk_widget_add_css_class (label, "error");
  else if (g_strcmp0 (text, "cropped") == 0)
    gtk_widget_add_css_class (label, "warning");
  gtk_grid_attach (self->grid, label, column, row, 1, 1);
}

/* A row per run of releases that did the same at @line, a column per
 * notifier: the words of the comparison ("delivered", "cropped",
 * "skipped", "abort"), "—" for a release stopped before. */
static void
fill_grid (IovComparePanel *self,
           JsonObject      *outcomes)
{
  JsonObject *profiles = json_object_get_object_member (result_root (self), "profiles");
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GList) ids = json_object_get_members (outcomes);
  const IovProfile *const *table;
  const IovProfile *first = NULL, *last = NULL;
  g_autofree char *key = NULL;
  guint n;
  int row = 1;

  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr(GPtrArray) firsts = g_ptr_array_new ();
  g_autoptr(GPtrArray) lasts = g_ptr_array_new ();

  clear_grid (self);
  g_hash_table_remove_all (self->by_notifier);
  for (GList *l = ids; l != NULL; l = l->next)
    {
      g_autoptr(GList) ns = json_object_get_members (json_object_get_object_member (outcomes, l->data));

      for (GList *m = ns; m != NULL; m = m->next)
        if (!g_hash_table_contains (seen, m->data))
          {
            g_ptr_array_add (names, g_strdup (m->data));
            g_hash_table_add (seen, g_ptr_array_index (names, names->len - 1));
          }
    }
  g_ptr_array_sort (names, compare_names);
  /* Translators: the heading of the releases' column */
  cell (self, _("Releases"), 0, 0, TRUE);
  for (guint i = 0; i < names->len; i++)
    cell (self, g_ptr_array_index (names, i), (int) i + 1, 0, TRUE);

  table = iov_profile_list (&n);
  for (guint i = 0; i <= n; i++)
    {
      const IovProfile *profile = i < n ? table[i] : NULL;
      g_autoptr(GString) words = g_string_new (NULL);

      if (profile != NULL && !json_object_has_member (profiles, profile->id))
        continue;
      if (profile != NULL)
        {
          JsonObject *mine = json_object_has_member (outcomes, profile->id)
                             ? json_object_get_object_member (outcomes, profile->id) : NULL;

          for (guint j = 0; j < names->len; j++)
            {
              const char *name = g_ptr_array_index (names, j);

              g_string_append (words, mine == NULL ? "—"
                                      : json_object_has_member (mine, name) ? json_object_get_string_member (mine, name)
                                      : "skipped");
              g_string_append_c (words, '\t');
            }
        }
      /* the run goes on while the words are the same */
      if (profile != NULL && key != NULL && g_str_equal (key, words->str))
        {
          last = profile;
          continue;
        }
      if (key != NULL)
        {
          g_autofree char *range = iov_compare_range_label (first, last);
          g_auto(GStrv) cells = g_strsplit (key, "\t", -1);

          cell (self, range, 0, row, FALSE);
          for (guint j = 0; j < names->len; j++)
            cell (self, cells[j], (int) j + 1, row, FALSE);
          row++;
          g_ptr_array_add (firsts, (gpointer) first);
          g_ptr_array_add (lasts, (gpointer) last);
          g_ptr_array_add (rows, g_steal_pointer (&cells));
        }
      g_free (key);
      key = profile ? g_string_free (g_steal_pointer (&words), FALSE) : NULL;
      first = last = profile;
    }

  /* For each notifier, the same rows merged where its word stays the
   * same: what its lane says beside the selected event. */
  for (guint j = 0; j < names->len; j++)
    {
      g_autoptr(GString) text = g_string_new (NULL);

      for (guint r = 0; r < rows->len;)
        {
          const char *word = ((char **) g_ptr_array_index (rows, r))[j];
          guint end = r + 1;
          g_autofree char *range = NULL;

          while (end < rows->len && g_str_equal (((char **) g_ptr_array_index (rows, end))[j], word))
            end++;
          range = iov_compare_range_label (g_ptr_array_index (firsts, r), g_ptr_array_index (lasts, end - 1));
          g_string_append_printf (text, "%s%s %s", text->len ? " · " : "", range, word);
          r = end;
        }
      g_hash_table_insert (self->by_notifier, g_strdup (g_ptr_array_index (names, j)),
                           g_string_free (g_steal_pointer (&text), FALSE));
    }
}

/**
 * iov_compare_panel_get_release_outcomes:
 *
 * Returns: (transfer none): for the event shown, each notifier's name → what
 *   the releases did with it, e.g. "5.0–5.2 abort · 6.0+ cropped"; empty
 *   where every release does the same
 */
GHashTable *
iov_compare_panel_get_release_outcomes (IovComparePanel *self)
{
  g_return_val_if_fail (IOV_IS_COMPARE_PANEL (self), NULL);
  return self->by_notifier;
}

/* A line where releases differ, beyond the outcomes the result keeps too. */
static gboolean
is_divergence (IovComparePanel *self,
               guint64          line)
{
  GArray *lines = self->run->divergence_lines;
  guint lo = 0, hi = lines ? lines->len : 0;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (lines, guint64, mid) < line)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lines != NULL && lo < lines->len && g_array_index (lines, guint64, lo) == line;
}

void
iov_compare_panel_show_event (IovComparePanel *self,
                              guint64          event)
{
  g_autofree char *headline = NULL;
  g_autofree char *summary = NULL;
  JsonObject *outcomes;
  guint64 line;

  g_return_if_fail (IOV_IS_COMPARE_PANEL (self));

  if (self->run == NULL)
    return;
  if (event == G_MAXUINT64)
    line = self->lines->len > 0 ? g_array_index (self->lines, guint64, 0) : 0;
  else
    line = iov_compare_run_line_of_event (self->run, event);
  outcomes = line > 0 ? outcomes_of (self, line) : NULL;
  headline = line > 0 && (outcomes != NULL || g_hash_table_contains (self->aborts, &line))
             ? iov_compare_headline (self->run->result, line) : NULL;
  gtk_widget_set_visible (GTK_WIDGET (self->grid), outcomes != NULL);
  g_hash_table_remove_all (self->by_notifier);
  if (outcomes != NULL)
    fill_grid (self, outcomes);
  if (headline == NULL && line > 0 && is_divergence (self, line))
    headline = g_strdup (_("The releases differ on this event; what each did is kept for the first 1,000 "
                           "differences of the trace only"));
  if (headline == NULL)
    headline = g_strdup (self->lines->len > 0 ? _("Every release does the same with this event")
                                              : _("Every release does the same with this whole trace"));
  gtk_label_set_text (self->headline, headline);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->headline), headline);
  {
    guint64 n = (guint64) json_object_get_int_member (result_root (self), "n_divergences");

    /* Translators: %llu are a trace line and a count of lines */
    summary = g_strdup_printf (ngettext ("Line %llu · releases differ on %llu line (F8: Next Difference)",
                                         "Line %llu · releases differ on %llu lines (F8: Next Difference)",
                                         (unsigned long) MIN (n, G_MAXULONG)),
                               (unsigned long long) line, (unsigned long long) n);
  }
  gtk_label_set_text (self->summary, summary);
}

guint64
iov_compare_panel_next_difference (IovComparePanel *self,
                                   guint64          event)
{
  guint64 line;

  g_return_val_if_fail (IOV_IS_COMPARE_PANEL (self), G_MAXUINT64);

  if (self->run == NULL || self->lines->len == 0)
    return G_MAXUINT64;
  line = event == G_MAXUINT64 ? 0 : iov_compare_run_line_of_event (self->run, event);
  for (guint i = 0; i < self->lines->len; i++)
    if (g_array_index (self->lines, guint64, i) > line)
      return iov_compare_run_event_of_line (self->run, g_array_index (self->lines, guint64, i));
  /* after the last: the first again */
  return iov_compare_run_event_of_line (self->run, g_array_index (self->lines, guint64, 0));
}

GArray *
iov_compare_panel_dup_difference_events (IovComparePanel *self,
                                         GArray         **aborts)
{
  GArray *events = g_array_new (FALSE, FALSE, sizeof (guint64));

  if (aborts != NULL)
    *aborts = g_array_new (FALSE, FALSE, sizeof (guint64));
  for (guint i = 0; self->run != NULL && i < self->lines->len; i++)
    {
      guint64 line = g_array_index (self->lines, guint64, i);
      guint64 event = iov_compare_run_event_of_line (self->run, line);

      if (event == G_MAXUINT64)
        continue;
      if (aborts != NULL && g_hash_table_contains (self->aborts, &line))
        g_array_append_val (*aborts, event);
      if (is_divergence (self, line))
        g_array_append_val (events, event);
    }
  return events;
}

void
iov_compare_panel_set_run (IovComparePanel *self,
                           IovCompareRun   *run)
{
  JsonObject *profiles;
  JsonArray *divergences;
  g_autoptr(GList) ids = NULL;

  g_return_if_fail (IOV_IS_COMPARE_PANEL (self));

  g_clear_pointer (&self->run, iov_compare_run_free);
  g_array_set_size (self->lines, 0);
  g_hash_table_remove_all (self->aborts);
  g_hash_table_remove_all (self->by_notifier);
  self->run = run;
  clear_grid (self);
  gtk_label_set_text (self->assumptions, "");
  gtk_widget_set_visible (GTK_WIDGET (self->assumptions), FALSE);
  if (run == NULL)
    return;
  /* what the replay cannot know is said, never filled in (issue K) */
  {
    JsonArray *assumed = json_object_get_array_member (result_root (self), "assumptions");
    g_autoptr(GString) text = g_string_new (NULL);

    for (guint i = 0; assumed != NULL && i < json_array_get_length (assumed); i++)
      g_string_append_printf (text, "\n• %s", json_array_get_string_element (assumed, i));
    if (text->len > 0)
      {
        /* Translators: followed by a list of what a replay of a trace cannot know */
        g_string_prepend (text, _("What the trace cannot tell, so no release is credited with it:"));
        gtk_label_set_text (self->assumptions, text->str);
        gtk_widget_set_tooltip_text (GTK_WIDGET (self->assumptions), text->str);
        gtk_widget_set_visible (GTK_WIDGET (self->assumptions), TRUE);
      }
  }
  /* the lines to go through: where releases differ (every one; the
   * result has the outcomes of the first 1,000) and where one would abort */
  divergences = json_object_get_array_member (result_root (self), "divergences");
  if (run->divergence_lines != NULL)
    g_array_append_vals (self->lines, run->divergence_lines->data, run->divergence_lines->len);
  else
    for (guint i = 0; i < json_array_get_length (divergences); i++)
      {
        guint64 line = (guint64) json_object_get_int_member (json_array_get_object_element (divergences, i), "line");

        g_array_append_val (self->lines, line);
      }
  profiles = json_object_get_object_member (result_root (self), "profiles");
  ids = json_object_get_members (profiles);
  for (GList *l = ids; l != NULL; l = l->next)
    {
      JsonNode *abort = json_object_get_member (json_object_get_object_member (profiles, l->data), "abort");
      guint64 *line;

      if (abort == NULL || !JSON_NODE_HOLDS_OBJECT (abort))
        continue;
      line = g_new (guint64, 1);
      *line = (guint64) json_object_get_int_member (json_node_get_object (abort), "line");
      if (!g_hash_table_contains (self->aborts, line))
        g_array_append_val (self->lines, *line);
      g_hash_table_add (self->aborts, line);
    }
  g_array_sort (self->lines, compare_lines);
  for (guint i = 1; i < self->lines->len;)
    if (g_array_index (self->lines, guint64, i) == g_array_index (self->lines, guint64, i - 1))
      g_array_remove_index (self->lines, i);
    else
      i++;
  iov_compare_panel_show_event (self, G_MAXUINT64);
}

IovCompareRun *
iov_compare_panel_get_run (IovComparePanel *self)
{
  g_return_val_if_fail (IOV_IS_COMPARE_PANEL (self), NULL);
  return self->run;
}

void
iov_compare_panel_set_busy (IovComparePanel *self,
                            const char      *message)
{
  g_return_if_fail (IOV_IS_COMPARE_PANEL (self));
  gtk_label_set_text (self->headline, message);
  gtk_label_set_text (self->summary, "");
  gtk_widget_set_visible (GTK_WIDGET (self->grid), FALSE);
}

char *
iov_compare_panel_dup_headline (IovComparePanel *self)
{
  g_return_val_if_fail (IOV_IS_COMPARE_PANEL (self), NULL);
  return g_strdup (gtk_label_get_text (self->headline));
}

/* The assumptions as shown, or "" when there are none. */
char *
iov_compare_panel_dup_assumptions (IovComparePanel *self)
{
  g_return_val_if_fail (IOV_IS_COMPARE_PANEL (self), NULL);
  return g_strdup (gtk_label_get_text (self->assumptions));
}

char *
iov_compare_panel_dup_grid_text (IovComparePanel *self)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (IOV_IS_COMPARE_PANEL (self), NULL);

  for (int row = 0;; row++)
    {
      GtkWidget *first = gtk_grid_get_child_at (self->grid, 0, row);

      if (first == NULL)
        break;
      for (int column = 0;; column++)
        {
          GtkWidget *child = gtk_grid_get_child_at (self->grid, column, row);

          if (child == NULL)
            break;
          if (column > 0)
            g_string_append_c (out, '\t');
          g_string_append (out, gtk_label_get_text (GTK_LABEL (child)));
        }
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

static void
iov_compare_panel_finalize (GObject *object)
{
  IovComparePanel *self = IOV_COMPARE_PANEL (object);

  g_clear_pointer (&self->run, iov_compare_run_free);
  g_array_unref (self->lines);
  g_hash_table_unref (self->aborts);
  g_hash_table_unref (self->by_notifier);
  G_OBJECT_CLASS (iov_compare_panel_parent_class)->finalize (object);
}

static void
iov_compare_panel_class_init (IovComparePanelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = iov_compare_panel_finalize;
}

static void
iov_compare_panel_init (IovComparePanel *self)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *next = gtk_button_new_with_mnemonic (_("_Next Difference"));

  self->lines = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->aborts = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->by_notifier = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 6);

  self->headline = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->headline, TRUE);
  /* a long sentence wraps instead of widening the window: with lines
   * and an ellipsis, GTK lets a wrapping label shrink */
  gtk_label_set_ellipsize (self->headline, PANGO_ELLIPSIZE_END);
  gtk_label_set_lines (self->headline, 4);
  gtk_label_set_xalign (self->headline, 0);
  gtk_widget_set_hexpand (GTK_WIDGET (self->headline), TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->headline), "heading");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (next), "live.next-difference");
  gtk_widget_set_tooltip_text (next, _("Select the next event on which the releases differ (F8)"));
  gtk_widget_set_valign (next, GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->headline));

  self->summary = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->summary, 0);
  gtk_label_set_wrap (self->summary, TRUE);
  gtk_label_set_natural_wrap_mode (self->summary, GTK_NATURAL_WRAP_WORD);
  gtk_widget_set_hexpand (GTK_WIDGET (self->summary), TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->summary), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (self->summary), "caption");
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->summary));
  gtk_box_append (GTK_BOX (row), next);
  gtk_box_append (GTK_BOX (self), row);

  self->grid = GTK_GRID (gtk_grid_new ());
  gtk_grid_set_column_spacing (self->grid, 18);
  gtk_grid_set_row_spacing (self->grid, 2);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->grid));

  self->assumptions = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->assumptions, 0);
  gtk_label_set_wrap (self->assumptions, TRUE);
  /* as the headline: lines and an ellipsis let it shrink with the window
   * instead of widening it; the tooltip has it whole */
  gtk_label_set_ellipsize (self->assumptions, PANGO_ELLIPSIZE_END);
  gtk_label_set_lines (self->assumptions, 3);
  gtk_widget_set_hexpand (GTK_WIDGET (self->assumptions), TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->assumptions), "caption");
  gtk_widget_set_visible (GTK_WIDGET (self->assumptions), FALSE);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->assumptions));
}
