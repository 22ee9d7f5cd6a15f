/* iov-painter.c — a model run drawn with cairo, for print and export
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

#define G_LOG_DOMAIN "iov-painter"

#include "config.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <pango/pangocairo.h>

#include "iov-painter.h"
#include "iov-what-if.h"

/* Print colours: fixed, readable on paper and projectors alike. */
typedef struct { double r, g, b; } Rgb;

static const Rgb ink       = { 0.13, 0.13, 0.15 };
static const Rgb faint     = { 0.45, 0.45, 0.50 };
static const Rgb iommu     = { 0.21, 0.52, 0.89 };   /* accent blue */
static const Rgb irwin     = { 0.90, 0.65, 0.04 };   /* amber */
static const Rgb passthru  = { 0.60, 0.60, 0.62 };
static const Rgb map_c     = { 0.15, 0.64, 0.41 };   /* green */
static const Rgb unmap_c   = { 0.88, 0.11, 0.14 };   /* red */
static const Rgb dev_c     = { 0.57, 0.25, 0.67 };   /* purple */
static const Rgb abort_c   = { 0.75, 0.11, 0.16 };

#define MARGIN       24.0
#define LABEL_W      190.0
#define MAP_H        34.0
#define LANE_H       30.0
#define TITLE_H      64.0
#define AXIS_LABEL_H 34.0
#define LEGEND_H     40.0

/* ------------------------------------------------------------------------
 * Axis
 */

static int
cmp_u64 (gconstpointer a,
         gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

void
iov_axis_init (IovAxis       *axis,
               const guint64 *points,
               guint          n_points,
               double         x0,
               double         width,
               double         min_segment)
{
  g_autofree double *weights = NULL;
  double total = 0, x;
  guint n;

  axis->bounds = g_array_new (FALSE, FALSE, sizeof (guint64));
  axis->x = g_array_new (FALSE, FALSE, sizeof (double));

  {
    guint64 zero = 0;
    g_array_append_val (axis->bounds, zero);
  }
  for (guint i = 0; i < n_points; i++)
    g_array_append_val (axis->bounds, points[i]);
  g_array_sort (axis->bounds, cmp_u64);
  for (guint i = 1; i < axis->bounds->len;)
    if (g_array_index (axis->bounds, guint64, i) == g_array_index (axis->bounds, guint64, i - 1))
      g_array_remove_index (axis->bounds, i);
    else
      i++;

  n = axis->bounds->len;
  weights = g_new0 (double, n);
  for (guint i = 0; i < n; i++)
    {
      guint64 lo = g_array_index (axis->bounds, guint64, i);
      /* The last segment runs to 2^64. */
      double size = i + 1 < n ? (double) (g_array_index (axis->bounds, guint64, i + 1) - lo)
                              : 18446744073709551616.0 - (double) lo;

      weights[i] = MAX (1.0, log2 (MAX (size, 1.0)) - 11.0);
      total += weights[i];
    }

  /* Widths proportional to log2, then lifted to the floor. */
  {
    double avail = width - min_segment * n;
    double scale = avail > 0 ? avail / total : 0;

    x = x0;
    for (guint i = 0; i < n; i++)
      {
        g_array_append_val (axis->x, x);
        x += min_segment + weights[i] * scale;
      }
    g_array_append_val (axis->x, x);
  }
}

void
iov_axis_clear (IovAxis *axis)
{
  g_clear_pointer (&axis->bounds, g_array_unref);
  g_clear_pointer (&axis->x, g_array_unref);
}

static double
axis_pos (const IovAxis *axis,
          guint64        addr,
          double         frac_extra)
{
  guint n = axis->bounds->len;
  guint i = 0;
  guint64 lo;
  double span;

  /* Segments are few: a linear scan is plenty. */
  while (i + 1 < n && g_array_index (axis->bounds, guint64, i + 1) <= addr)
    i++;
  lo = g_array_index (axis->bounds, guint64, i);
  span = i + 1 < n ? (double) (g_array_index (axis->bounds, guint64, i + 1) - lo)
                   : 18446744073709551616.0 - (double) lo;
  return g_array_index (axis->x, double, i) +
         ((double) (addr - lo) + frac_extra) / span *
         (g_array_index (axis->x, double, i + 1) - g_array_index (axis->x, double, i));
}

double
iov_axis_x (const IovAxis *axis,
            guint64        addr)
{
  return axis_pos (axis, addr, 0);
}

double
iov_axis_x_end (const IovAxis *axis,
                guint64        last)
{
  return axis_pos (axis, last, 1);
}

/* ------------------------------------------------------------------------
 * Drawing helpers
 */

static void
set (cairo_t   *cr,
     const Rgb *c,
     double     alpha)
{
  cairo_set_source_rgba (cr, c->r, c->g, c->b, alpha);
}

static void
text (cairo_t    *cr,
      double      x,
      double      y,
      const char *str,
      const char *font,
      const Rgb  *colour,
      double      max_width)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *desc = pango_font_description_from_string (font);

  pango_layout_set_font_description (layout, desc);
  pango_layout_set_text (layout, str, -1);
  if (max_width > 0)
    {
      pango_layout_set_width (layout, (int) (max_width * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
    }
  set (cr, colour, 1);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
  pango_font_description_free (desc);
  g_object_unref (layout);
}

static void
hatch (cairo_t *cr,
       double   x,
       double   y,
       double   w,
       double   h,
       const Rgb *c)
{
  cairo_save (cr);
  cairo_rectangle (cr, x, y, w, h);
  cairo_clip (cr);
  set (cr, c, 0.9);
  cairo_set_line_width (cr, 1.2);
  for (double d = -h; d < w + h; d += 6)
    {
      cairo_move_to (cr, x + d, y + h);
      cairo_line_to (cr, x + d + h, y);
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

static const Rgb *
type_colour (guint type)
{
  switch (type)
    {
    case IOV_NOTIFIER_MAP: return &map_c;
    case IOV_NOTIFIER_DEVIOTLB_UNMAP: return &dev_c;
    default: return &unmap_c;
    }
}

static const char *
type_glyph (guint type)
{
  /* Shapes as well as colours: readable in greyscale too. */
  switch (type)
    {
    case IOV_NOTIFIER_MAP: return "▲";
    case IOV_NOTIFIER_DEVIOTLB_UNMAP: return "◆";
    default: return "▼";
    }
}

/* Sizes in the largest unit that keeps them whole: 0xfee00000 is
 * "4078 MiB", not a rounded "4.0 GiB". */
static char *
iec (guint64 value)
{
  static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  guint u = 0;

  if (value == 0)
    return g_strdup ("0");
  while (u + 1 < G_N_ELEMENTS (units) && (value & 1023) == 0)
    {
      value >>= 10;
      u++;
    }
  return g_strdup_printf ("%" G_GUINT64_FORMAT " %s", value, units[u]);
}

/* ------------------------------------------------------------------------
 * The picture
 */

static gboolean
dmar_on_at (const IovScenario *sc,
            int                step)
{
  gboolean on = sc->low_level;

  for (int i = 0; i <= step && i < (int) sc->steps->len; i++)
    {
      IovStepOp op = g_array_index (sc->steps, IovStep, i).op;

      if (op == IOV_STEP_ENABLE_DMAR)
        on = TRUE;
      else if (op == IOV_STEP_DISABLE_DMAR)
        on = FALSE;
    }
  return on;
}

static guint
count_lanes (GPtrArray *spaces)
{
  guint n = 0;

  for (guint i = 0; i < spaces->len; i++)
    n += MAX (1u, ((IovRunSpace *) g_ptr_array_index (spaces, i))->notifiers->len);
  return n;
}

double
iov_painter_height (const IovScenario *scenario,
                    const IovRun      *run,
                    int                step)
{
  g_autoptr(GPtrArray) spaces = iov_run_spaces_at (run, step);

  return MARGIN + TITLE_H + MAP_H + AXIS_LABEL_H + 16 + count_lanes (spaces) * LANE_H + 24 + LEGEND_H + MARGIN;
}

static void
add_point (GArray  *points,
           guint64  v)
{
  if (v != 0)
    g_array_append_val (points, v);
}

static void
draw_legend (cairo_t *cr,
             double   x,
             double   y)
{
  static const struct { const Rgb *c; const char *label; gboolean hatched; } items[] = {
    { &iommu, N_("IOMMU region"), FALSE },
    { &irwin, N_("interrupt window"), TRUE },
    { &passthru, N_("no DMA remapping"), FALSE },
    { &map_c, N_("▲ MAP"), FALSE },
    { &unmap_c, N_("▼ UNMAP"), FALSE },
    { &dev_c, N_("◆ DEVIOTLB_UNMAP"), FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      if (items[i].hatched)
        hatch (cr, x, y + 3, 18, 12, items[i].c);
      else
        {
          set (cr, items[i].c, 0.85);
          cairo_rectangle (cr, x, y + 3, 18, 12);
          cairo_fill (cr);
        }
      text (cr, x + 24, y, _(items[i].label), "Sans 9", &ink, 0);
      x += 140;
    }
  text (cr, MARGIN, y + 18, _("Faint bar behind a delivery: the range before QEMU cropped it. Dotted: skipped "
                              "(out of range, or “flags”: the notifier does not want that type). "
                              "Lanes are in QEMU's dispatch order."), "Sans 8", &faint, 0);
}

void
iov_painter_draw (cairo_t           *cr,
                  const IovScenario *sc,
                  const IovRun      *run,
                  int                step,
                  double             width)
{
  g_autoptr(GPtrArray) spaces = iov_run_spaces_at (run, step);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (guint64));
  const IovStepResult *r = step >= 0 && step < (int) run->steps->len
                             ? &g_array_index (run->steps, IovStepResult, step) : NULL;
  gboolean dmar = dmar_on_at (sc, step);
  gboolean split = sc->model != IOV_IOMMU_VIRTIO;
  guint aw = iov_scenario_aw_bits (sc, run->profile);
  double x0 = MARGIN + LABEL_W, axis_w = width - x0 - MARGIN;
  double y = MARGIN;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  IovAxis axis;

  /* White paper. */
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);

  title = g_strdup_printf ("%s — %s", sc->title ? sc->title : (sc->name ? sc->name : _("Scenario")),
                           run->profile->label);
  text (cr, MARGIN, y, title, "Sans Bold 15", &ink, width - 2 * MARGIN);
  if (r != NULL)
    subtitle = g_strdup_printf (_("Step %d: %s%s%s"), step + 1, iov_step_op_to_string (r->op),
                                r->explain ? " — " : "", r->explain ? r->explain : "");
  else
    subtitle = g_strdup (_("Before the first step"));
  text (cr, MARGIN, y + 24, subtitle, "Sans 10", &faint, width - 2 * MARGIN);
  y += TITLE_H;

  /* Axis bounds: everything that matters for this picture. */
  add_point (points, G_GUINT64_CONSTANT (1) << 32);
  add_point (points, G_GUINT64_CONSTANT (1) << aw);
  if (split)
    {
      add_point (points, IOV_INTERRUPT_ADDR_FIRST);
      add_point (points, IOV_INTERRUPT_ADDR_LAST + 1);
    }
  for (guint i = 0; i < spaces->len; i++)
    {
      GPtrArray *ns = ((IovRunSpace *) g_ptr_array_index (spaces, i))->notifiers;

      for (guint j = 0; j < ns->len; j++)
        {
          const IovNotifier *n = g_ptr_array_index (ns, j);

          add_point (points, n->start);
          add_point (points, n->end + 1);
        }
    }
  /* A handful of events may add bounds; power-of-two chunks would only
   * crowd the axis. */
  for (guint e = 0; r != NULL && !r->not_run && r->events->len <= 4 && e < r->events->len; e++)
    {
      const IovTlbEvent *ev = &g_array_index (r->events, IovTlbEvent, e);

      add_point (points, ev->iova);
      add_point (points, ev->iova + ev->addr_mask + 1);
    }
  iov_axis_init (&axis, (guint64 *) points->data, points->len, x0, axis_w,
                 MIN (44, axis_w / (points->len + 1) / 2));

  /* The address-space map. */
  text (cr, MARGIN, y + 8, dmar ? _("IOMMU address space") : _("Address space (no DMA remapping)"),
        "Sans Bold 10", &ink, LABEL_W - 8);
  if (!dmar)
    {
      set (cr, &passthru, 0.55);
      cairo_rectangle (cr, x0, y, axis_w, MAP_H);
      cairo_fill (cr);
      text (cr, x0 + 8, y + 9, _("vtd-nodmar: pass-through to system memory"), "Sans 10", &ink, axis_w - 16);
    }
  else
    {
      double a = iov_axis_x (&axis, 0);
      double b = split ? iov_axis_x (&axis, IOV_INTERRUPT_ADDR_FIRST) : x0 + axis_w;

      set (cr, &iommu, 0.8);
      cairo_rectangle (cr, a, y, b - a, MAP_H);
      cairo_fill (cr);
      if (split)
        {
          double c = iov_axis_x_end (&axis, IOV_INTERRUPT_ADDR_LAST);

          set (cr, &irwin, 0.25);
          cairo_rectangle (cr, b, y, c - b, MAP_H);
          cairo_fill (cr);
          hatch (cr, b, y, c - b, MAP_H, &irwin);
          set (cr, &iommu, 0.8);
          cairo_rectangle (cr, c, y, x0 + axis_w - c, MAP_H);
          cairo_fill (cr);
          text (cr, b + 3, y + 10, "IR", "Sans Bold 8", &ink, 0);
        }
      text (cr, a + 6, y + 9, _("DMA remapping (IOMMU)"), "Sans 9", &(Rgb) { 1, 1, 1 }, b - a - 10);
    }

  /* Boundary labels, in hex with their size, where there is room. */
  for (guint i = 0, last_x = 0; i < axis.bounds->len; i++)
    {
      guint64 v = g_array_index (axis.bounds, guint64, i);
      double x = g_array_index (axis.x, double, i);
      g_autofree char *size = iec (v);
      g_autofree char *label = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x\n%s", v, size);

      set (cr, &faint, 0.6);
      cairo_set_line_width (cr, 0.6);
      cairo_move_to (cr, x + 0.3, y);
      cairo_line_to (cr, x + 0.3, y + MAP_H + 6);
      cairo_stroke (cr);
      if (i > 0 && x - last_x < 78)
        continue;
      last_x = (guint) x;
      cairo_save (cr);
      cairo_translate (cr, x + 2, y + MAP_H + 4);
      text (cr, 0, 0, label, "Monospace 7", &faint, 0);
      cairo_restore (cr);
    }
  {
    double x = g_array_index (axis.x, double, axis.bounds->len);
    g_autofree char *top = g_strdup_printf ("2^64 (%s)", "16 EiB");

    text (cr, x - 60, y + MAP_H + 16, top, "Monospace 7", &faint, 0);
  }
  y += MAP_H + AXIS_LABEL_H + 16;

  /* One lane per notifier, in QEMU's dispatch order. */
  {
    double lanes_top = y;
    const IovOutcome *abort_outcome = NULL;

    for (guint i = 0; i < spaces->len; i++)
      {
        IovRunSpace *space = g_ptr_array_index (spaces, i);

        if (space->notifiers->len == 0)
          {
            g_autofree char *none = g_strdup_printf (_("%s: no notifier"), space->device);

            text (cr, MARGIN, y + 7, none, "Sans Italic 9", &faint, LABEL_W - 8);
            y += LANE_H;
            continue;
          }

        for (guint j = 0; j < space->notifiers->len; j++)
          {
            const IovNotifier *n = g_ptr_array_index (space->notifiers, j);
            g_autofree char *flags = iov_flags_to_string (n->flags);
            g_autofree char *label = g_strdup_printf ("%u. %s", j + 1, n->name);
            double nx0 = iov_axis_x (&axis, n->start), nx1 = iov_axis_x_end (&axis, n->end);

            text (cr, MARGIN, y + 1, label, "Sans Bold 9", &ink, LABEL_W - 8);
            text (cr, MARGIN, y + 14, flags, "Monospace 7", &faint, LABEL_W - 8);

            /* The notifier's range. */
            set (cr, &ink, 0.07);
            cairo_rectangle (cr, nx0, y + 3, nx1 - nx0, LANE_H - 8);
            cairo_fill (cr);
            set (cr, &ink, 0.35);
            cairo_set_line_width (cr, 1);
            cairo_rectangle (cr, nx0 + 0.5, y + 3.5, nx1 - nx0 - 1, LANE_H - 9);
            cairo_stroke (cr);

            /* What this step did to it. */
            for (guint o = 0; r != NULL && !r->not_run && o < r->outcomes->len; o++)
              {
                const IovOutcome *oc = &g_array_index (r->outcomes, IovOutcome, o);
                const IovTlbEvent *ev = oc->event >= 0 ? &g_array_index (r->events, IovTlbEvent, oc->event) : NULL;
                double ex0, ex1;

                if (oc->notifier != n)
                  continue;
                if (oc->result == IOV_RESULT_ABORT)
                  {
                    abort_outcome = oc;
                    set (cr, &abort_c, 1);
                    text (cr, nx0 + 4, y + 7, "✖", "Sans Bold 10", &abort_c, 0);
                    continue;
                  }
                if (ev == NULL)
                  continue;
                ex0 = iov_axis_x (&axis, ev->iova);
                ex1 = iov_axis_x_end (&axis, ev->iova + ev->addr_mask < ev->iova ? G_MAXUINT64
                                                                                 : ev->iova + ev->addr_mask);
                if (ex1 - ex0 < 2)
                  ex1 = ex0 + 2;

                if (oc->result == IOV_RESULT_DELIVERED)
                  {
                    double dx0 = iov_axis_x (&axis, oc->iova);
                    double dx1 = iov_axis_x_end (&axis, oc->iova + oc->addr_mask);

                    if (oc->cropped)
                      {
                        /* The original range, ghosted behind the cropped one. */
                        set (cr, type_colour (oc->type), 0.18);
                        cairo_rectangle (cr, ex0, y + 8, ex1 - ex0, LANE_H - 18);
                        cairo_fill (cr);
                      }
                    set (cr, type_colour (oc->type), 0.9);
                    cairo_rectangle (cr, dx0, y + 6, MAX (2, dx1 - dx0), LANE_H - 14);
                    cairo_fill (cr);
                    text (cr, dx0 + 2, y + 6, type_glyph (oc->type), "Sans 8", &(Rgb) { 1, 1, 1 }, 0);
                  }
                else
                  {
                    /* Skipped: dotted outline of the event's range, dim. */
                    static const double dash[] = { 2, 3 };

                    cairo_save (cr);
                    cairo_set_dash (cr, dash, 2, 0);
                    set (cr, &faint, 0.7);
                    cairo_rectangle (cr, ex0 + 0.5, y + 8.5, ex1 - ex0 - 1, LANE_H - 19);
                    cairo_stroke (cr);
                    cairo_restore (cr);
                    if (oc->result == IOV_RESULT_SKIPPED_FLAGS)
                      text (cr, MAX (ex0, nx0) + 3, y + 8, _("flags"), "Sans Italic 7", &faint, 0);
                  }
              }
            y += LANE_H;
          }
      }

    /* An abort stops everything: a band across all lanes. */
    if (r != NULL && !r->not_run && run->aborted_at == step)
      {
        g_autofree char *msg = NULL;

        for (guint o = 0; o < r->outcomes->len && abort_outcome == NULL; o++)
          if (g_array_index (r->outcomes, IovOutcome, o).result == IOV_RESULT_ABORT)
            abort_outcome = &g_array_index (r->outcomes, IovOutcome, o);
        msg = abort_outcome ? iov_outcome_message (r, run->profile, abort_outcome) : NULL;
        set (cr, &abort_c, 0.12);
        cairo_rectangle (cr, MARGIN, lanes_top - 4, width - 2 * MARGIN, y - lanes_top + 4);
        cairo_fill (cr);
        set (cr, &abort_c, 1);
        cairo_rectangle (cr, MARGIN, y, width - 2 * MARGIN, 22);
        cairo_fill (cr);
        {
          g_autofree char *line = g_strdup_printf (_("QEMU stops here: %s"), msg ? msg : "");
          text (cr, MARGIN + 6, y + 3, line, "Sans Bold 9", &(Rgb) { 1, 1, 1 }, width - 2 * MARGIN - 12);
        }
      }
    y += 24;
  }

  draw_legend (cr, MARGIN, y + 6);
  iov_axis_clear (&axis);
}

gboolean
iov_painter_export (const IovScenario *scenario,
                    const IovRun      *run,
                    int                step,
                    const char        *format,
                    const char        *path,
                    GError           **error)
{
  const double width = 1200;
  double height = iov_painter_height (scenario, run, step);
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;
  gboolean png = g_strcmp0 (format, "png") == 0;

  if (g_strcmp0 (format, "svg") == 0)
    surface = cairo_svg_surface_create (path, width, height);
  else if (g_strcmp0 (format, "pdf") == 0)
    surface = cairo_pdf_surface_create (path, width, height);
  else if (png)
    {
      /* Twice the resolution: sharp on slides and in print. */
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) width * 2, (int) ceil (height) * 2);
    }
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("unknown picture format “%s”"), format);
      return FALSE;
    }

  cr = cairo_create (surface);
  if (png)
    cairo_scale (cr, 2, 2);
  iov_painter_draw (cr, scenario, run, step, width);
  cairo_destroy (cr);

  if (png)
    status = cairo_surface_write_to_png (surface, path);
  else
    {
      cairo_surface_finish (surface);
      status = cairo_surface_status (surface);
    }
  cairo_surface_destroy (surface);

  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("cannot write %s: %s"), path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}
