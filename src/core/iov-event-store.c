/* iov-event-store.c
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

#define G_LOG_DOMAIN "iov-event-store"

#include "config.h"

#include <string.h>
#include <sys/mman.h>

#include "iov-types.h"
#include "iov-event-store.h"

#define CHUNK_SHIFT   17                 /* 2 MiB of records */
#define CHUNK_EVENTS  (1u << CHUNK_SHIFT)
#define ARENA_BLOCK   (2u * 1024 * 1024)
G_STATIC_ASSERT (CHUNK_EVENTS * sizeof (IovEventRecord) == ARENA_BLOCK);
#define NO_ARGS       G_MAXUINT32
#define MAX_INTERN    (1u << 20)
#define MAX_INTERN_LEN 128

/* The count pyramid: every complete block of 2^6, 2^8, … 2^16 records of
 * a chunk keeps its time range and, per event id in it, the count and
 * the time range of those events.  A zoomed-out view then adds up a few
 * summaries per pixel and walks only the records of the blocks that
 * straddle a pixel's edge, instead of every record in view.  A block with
 * more ids than its level's cap, or longer than 2^32 ns (its times are
 * kept relative to its start), keeps no per-id summary and is walked.
 * Real QEMU traces have 7 ids per 64 events on average (16 at the 90th
 * percentile); the caps keep the pyramid under 4.5 bytes per event
 * whatever the trace.
 *
 * Appending builds it as a stream: each level has one open block, whose
 * counts are those of its finished children, uncapped (up to the top
 * level's cap), so a record is counted once, at the bottom, and the
 * counts of a block go up once, whether or not its level kept them.
 * Rebuilding a parent from the records whenever a child had too many
 * ids, as real traces often do at 64 events, cost ingest 20–40 %. */
#define SUM_LEVELS       6
#define SUM_L0_SHIFT     6
#define SUM_FANOUT_SHIFT 2   /* a small fan-out: fewer summaries per bin */
#define SUM_FANOUT       (1u << SUM_FANOUT_SHIFT)
#define SUM_SHIFT(l)     (SUM_L0_SHIFT + (l) * SUM_FANOUT_SHIFT)
#define SUM_N_BLOCKS(l)  (CHUNK_EVENTS >> SUM_SHIFT (l))
#define SUM_ALL_BLOCKS   (sum_base[SUM_LEVELS - 1] + SUM_N_BLOCKS (SUM_LEVELS - 1))
#define SUM_NONE         G_MAXUINT32
G_STATIC_ASSERT (SUM_LEVELS == 6 && SUM_SHIFT (SUM_LEVELS - 1) < CHUNK_SHIFT);

/* at most 2 bytes per event at the bottom, half that on each level up */
static const guint sum_cap[SUM_LEVELS] = { 8, 16, 32, 64, 128, 512 };
static const guint sum_base[SUM_LEVELS] = {
  0,
  SUM_N_BLOCKS (0),
  SUM_N_BLOCKS (0) + SUM_N_BLOCKS (1),
  SUM_N_BLOCKS (0) + SUM_N_BLOCKS (1) + SUM_N_BLOCKS (2),
  SUM_N_BLOCKS (0) + SUM_N_BLOCKS (1) + SUM_N_BLOCKS (2) + SUM_N_BLOCKS (3),
  SUM_N_BLOCKS (0) + SUM_N_BLOCKS (1) + SUM_N_BLOCKS (2) + SUM_N_BLOCKS (3) + SUM_N_BLOCKS (4),
};
#define SUM_MAX_CAP      512
#define SUM_ARENA_SHIFT  17                 /* 2 MiB of entries */
#define SUM_ARENA_ENTRIES (1u << SUM_ARENA_SHIFT)
G_STATIC_ASSERT ((1u << SUM_L0_SHIFT) <= SUM_MAX_CAP);   /* a bottom block never overflows */

typedef struct
{
  guint32 event_id;
  guint32 count;
  guint32 dt_min;    /* from the block's ts_min */
  guint32 dt_max;
} SumEntry;

typedef struct
{
  guint32 event_id;
  guint32 count;
  guint64 ts_min;
  guint64 ts_max;
} SumAcc;

typedef struct
{
  guint64 ts_min;
  guint64 ts_max;
  guint32 first;     /* into the store's summary arena */
  guint32 n;         /* SUM_NONE: too many ids, walk the block */
} SumBlock;

/* a chunk's SumBlocks, in arena entries */
#define SUM_BLOCKS_SIZE  ((SUM_ALL_BLOCKS * sizeof (SumBlock) + sizeof (SumEntry) - 1) / sizeof (SumEntry))
G_STATIC_ASSERT (SUM_ARENA_ENTRIES * sizeof (SumEntry) == ARENA_BLOCK);
G_STATIC_ASSERT (sizeof (SumEntry) % G_ALIGNOF (SumBlock) == 0);

/* The block being filled on one level: its time range and the counts
 * of its ids so far, uncapped up to SUM_MAX_CAP ids: a block with more
 * cannot be kept on any level, nor can its ancestors. */
typedef struct
{
  guint64  ts_min;
  guint64  ts_max;
  guint32 *slot_of_id;   /* event id → slot in acc, SUM_NONE when absent */
  SumAcc  *acc;
  guint    n_acc;
  gboolean overflow;     /* more than SUM_MAX_CAP ids */
} SumOpen;

enum { BLOB_TYPED = 0, BLOB_RAW = 1 };

typedef struct
{
  IovEventRecord *records;
  guint           n;
  guint64         ts_min;
  guint64         ts_max;
  gboolean        sorted;
  guint64         arena_base;
  SumBlock       *sum;          /* SUM_ALL_BLOCKS, level by level, in the summary arena;
                                 * valid when complete */
} Chunk;

struct _IovEventStore
{
  IovTraceCatalog *catalog;
  GPtrArray       *chunks;     /* Chunk* */
  GPtrArray       *blocks;     /* guint8[ARENA_BLOCK] */
  gsize            block_pos;  /* used bytes of the last block */
  guint64          n_events;
  gboolean         sorted;
  guint64          last_ts;
  guint8          *scratch;
  gsize            scratch_size;
  GHashTable      *intern;     /* char* → id + 1 */
  GPtrArray       *strings;    /* id → char* (NUL-terminated, owned by intern) */
  GArray          *string_lens;
  /* the pyramid: the summaries (and each chunk's SumBlocks) packed in
   * 2 MiB blocks like the arguments, as growing a buffer per chunk cost a
   * page fault every 4 KiB and a copy every doubling */
  GPtrArray       *sum_arena;  /* SumEntry[SUM_ARENA_ENTRIES] */
  guint            sum_pos;    /* used entries of the last block */
  /* the open block of each level of the pyramid */
  SumOpen          open[SUM_LEVELS];
  guint            n_slot_of_id;
};

IovEventStore *
iov_event_store_new (IovTraceCatalog *catalog)
{
  IovEventStore *self;

  g_return_val_if_fail (catalog != NULL, NULL);

  self = g_new0 (IovEventStore, 1);
  self->catalog = catalog;
  self->chunks = g_ptr_array_new ();
  self->blocks = g_ptr_array_new_with_free_func (g_aligned_free);
  self->sum_arena = g_ptr_array_new_with_free_func (g_aligned_free);
  self->block_pos = ARENA_BLOCK;
  self->sorted = TRUE;
  self->intern = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->strings = g_ptr_array_new ();
  self->string_lens = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint l = 0; l < SUM_LEVELS; l++)
    {
      self->open[l].acc = g_new (SumAcc, SUM_MAX_CAP);
      self->open[l].ts_min = G_MAXUINT64;
    }
  return self;
}

void
iov_event_store_free (IovEventStore *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < self->chunks->len; i++)
    {
      Chunk *c = g_ptr_array_index (self->chunks, i);

      g_aligned_free (c->records);
      g_free (c);
    }
  g_ptr_array_unref (self->chunks);
  g_ptr_array_unref (self->blocks);
  g_ptr_array_unref (self->sum_arena);
  g_hash_table_unref (self->intern);
  g_ptr_array_unref (self->strings);
  g_array_unref (self->string_lens);
  g_free (self->scratch);
  for (guint l = 0; l < SUM_LEVELS; l++)
    {
      g_free (self->open[l].slot_of_id);
      g_free (self->open[l].acc);
    }
  g_free (self);
}

/* 2 MiB, 2 MiB-aligned, backed by a transparent huge page where the
 * kernel allows it: one page fault instead of 512 while filling it. */
static gpointer
alloc_big (void)
{
  gpointer p = g_aligned_alloc (1, ARENA_BLOCK, ARENA_BLOCK);

#ifdef MADV_HUGEPAGE
  madvise (p, ARENA_BLOCK, MADV_HUGEPAGE);
#endif
  return p;
}

static inline guint8 *
put_varint (guint8  *p,
            guint64  v)
{
  while (v >= 0x80)
    {
      *p++ = (guint8) (v | 0x80);
      v >>= 7;
    }
  *p++ = (guint8) v;
  return p;
}

static inline const guint8 *
get_varint (const guint8 *p,
            guint64      *v)
{
  guint64 r = 0;
  guint shift = 0;

  for (;;)
    {
      guint8 b = *p++;

      r |= (guint64) (b & 0x7f) << shift;
      if (!(b & 0x80) || shift >= 63)
        break;
      shift += 7;
    }
  *v = r;
  return p;
}

static guint64
intern_string (IovEventStore *self,
               const char    *text,
               gsize          len)
{
  char key[MAX_INTERN_LEN + 1];
  gpointer found;
  char *dup;
  guint32 l = len;

  memcpy (key, text, len);
  key[len] = '\0';
  found = g_hash_table_lookup (self->intern, key);
  if (found != NULL)
    return GPOINTER_TO_UINT (found) - 1;
  if (self->strings->len >= MAX_INTERN)
    return G_MAXUINT64;
  dup = g_strndup (text, len);
  g_hash_table_insert (self->intern, dup, GUINT_TO_POINTER (self->strings->len + 1));
  g_ptr_array_add (self->strings, dup);
  g_array_append_val (self->string_lens, l);
  return self->strings->len - 1;
}

static gsize
encode_args (IovEventStore *self,
             guint          event_id,
             const char    *args,
             gsize          len)
{
  IovTraceArg decoded[IOV_TRACE_MAX_ARGS];
  guint8 *p;
  guint n = 0;
  gsize need = len + 16 * (IOV_TRACE_MAX_ARGS + 1);

  /* Encoded arguments never exceed their text by more than the tag and
   * the varint headers. */
  if (self->scratch_size < need)
    {
      self->scratch_size = MAX (need, 4096);
      self->scratch = g_realloc (self->scratch, self->scratch_size);
    }
  p = self->scratch;
  if (iov_trace_catalog_decode (self->catalog, event_id, args, len, decoded, &n))
    {
      if (n == 0)
        return 0;
      *p++ = BLOB_TYPED;
      for (guint i = 0; i < n; i++)
        {
          const IovTraceArg *a = &decoded[i];

          switch (a->kind)
            {
            case IOV_TRACE_ARG_HEX:
            case IOV_TRACE_ARG_UNSIGNED:
            case IOV_TRACE_ARG_OCTAL:
            case IOV_TRACE_ARG_POINTER:
              if (!iov_trace_catalog_arg_is_canonical (self->catalog, event_id, i, a))
                goto raw;
              p = put_varint (p, a->value);
              break;
            case IOV_TRACE_ARG_SIGNED:
              if (!iov_trace_catalog_arg_is_canonical (self->catalog, event_id, i, a))
                goto raw;
              p = put_varint (p, (a->value << 1) ^ (guint64) ((gint64) a->value >> 63));
              break;
            case IOV_TRACE_ARG_CHAR:
            case IOV_TRACE_ARG_STRING:
            case IOV_TRACE_ARG_FLOAT:
            default:
              {
                guint64 id = G_MAXUINT64;

                if (a->len <= MAX_INTERN_LEN && memchr (a->text, '\0', a->len) == NULL)
                  id = intern_string (self, a->text, a->len);
                if (id != G_MAXUINT64)
                  p = put_varint (p, (id << 1) | 1);
                else
                  {
                    p = put_varint (p, (guint64) a->len << 1);
                    memcpy (p, a->text, a->len);
                    p += a->len;
                  }
              }
              break;
            }
        }
      return p - self->scratch;
    }

raw:
  /* Even empty: no blob at all means "decoded, no arguments", which
   * renders the format's literal text. */
  p = self->scratch;
  *p++ = BLOB_RAW;
  p = put_varint (p, len);
  memcpy (p, args, len);
  p += len;
  return p - self->scratch;
}

/* The index the next @n entries of the summary arena will get: the
 * summaries of a block never straddle two arena blocks. */
static inline guint64
sum_arena_next (IovEventStore *self,
                guint          n)
{
  guint len = self->sum_arena->len;

  if (len == 0 || self->sum_pos + n > SUM_ARENA_ENTRIES)
    return (guint64) len << SUM_ARENA_SHIFT;
  return ((guint64) (len - 1) << SUM_ARENA_SHIFT) + self->sum_pos;
}

static SumEntry *
sum_arena_alloc (IovEventStore *self,
                 guint          n)
{
  SumEntry *p;

  g_assert (n <= SUM_ARENA_ENTRIES);
  if (self->sum_arena->len == 0 || self->sum_pos + n > SUM_ARENA_ENTRIES)
    {
      g_ptr_array_add (self->sum_arena, alloc_big ());
      self->sum_pos = 0;
    }
  p = (SumEntry *) g_ptr_array_index (self->sum_arena, self->sum_arena->len - 1) + self->sum_pos;
  self->sum_pos += n;
  return p;
}

static inline const SumEntry *
sum_entries (SumEntry * const *arena,
             guint32           first)
{
  return arena[first >> SUM_ARENA_SHIFT] + (first & (SUM_ARENA_ENTRIES - 1));
}

static void
sum_open_clear (SumOpen *o)
{
  for (guint i = 0; i < o->n_acc; i++)
    o->slot_of_id[o->acc[i].event_id] = SUM_NONE;
  o->n_acc = 0;
  o->overflow = FALSE;
  o->ts_min = G_MAXUINT64;
  o->ts_max = 0;
}

static Chunk *
current_chunk (IovEventStore *self,
               gsize          blob_len)
{
  Chunk *c = self->chunks->len ? g_ptr_array_index (self->chunks, self->chunks->len - 1) : NULL;
  guint64 arena_end = (guint64) (self->blocks->len ? self->blocks->len - 1 : 0) * ARENA_BLOCK + self->block_pos;

  if (c == NULL || c->n == CHUNK_EVENTS || arena_end + ARENA_BLOCK + blob_len - c->arena_base >= NO_ARGS)
    {
      /* a chunk cut short by its arena leaves blocks open */
      for (guint l = 0; l < SUM_LEVELS; l++)
        sum_open_clear (&self->open[l]);
      c = g_new0 (Chunk, 1);
      c->sum = (SumBlock *) sum_arena_alloc (self, SUM_BLOCKS_SIZE);
      c->records = alloc_big ();
      c->sorted = TRUE;
      c->ts_min = G_MAXUINT64;
      c->arena_base = self->blocks->len ? arena_end : 0;
      g_ptr_array_add (self->chunks, c);
    }
  return c;
}

/* Event ids from @n_ids on get a slot table entry on every level. */
static void
sum_grow_slots (IovEventStore *self,
                guint          n_ids)
{
  guint n = MAX (n_ids, self->n_slot_of_id * 2);

  for (guint l = 0; l < SUM_LEVELS; l++)
    {
      SumOpen *o = &self->open[l];

      o->slot_of_id = g_renew (guint32, o->slot_of_id, n);
      memset (o->slot_of_id + self->n_slot_of_id, 0xff, sizeof (guint32) * (n - self->n_slot_of_id));
    }
  self->n_slot_of_id = n;
}

/* Adds @count events of @event_id to the open block @o (the time range
 * of the block itself is the caller's). */
static inline void
sum_open_add (SumOpen *o,
              guint32  event_id,
              guint32  count,
              guint64  ts_min,
              guint64  ts_max)
{
  guint32 s = o->slot_of_id[event_id];

  if (s == SUM_NONE)
    {
      if (o->n_acc == SUM_MAX_CAP)
        {
          o->overflow = TRUE;
          return;
        }
      s = o->n_acc++;
      o->slot_of_id[event_id] = s;
      o->acc[s] = (SumAcc) { event_id, count, ts_min, ts_max };
      return;
    }
  o->acc[s].count += count;
  o->acc[s].ts_min = MIN (o->acc[s].ts_min, ts_min);
  o->acc[s].ts_max = MAX (o->acc[s].ts_max, ts_max);
}

/* Block @b of @level, just completed, is the open block of its level:
 * keeps its summary when its level allows, adds its counts to the open
 * block of the level above, and starts the next one. */
static void
sum_close (IovEventStore *self,
           Chunk         *c,
           guint          level,
           guint          b)
{
  SumOpen *o = &self->open[level];
  SumBlock *blk = &c->sum[sum_base[level] + b];

  g_assert (((b + 1) << SUM_SHIFT (level)) <= c->n);
  blk->ts_min = o->ts_min;
  blk->ts_max = o->ts_max;
  blk->first = 0;
  blk->n = SUM_NONE;
  if (!o->overflow && o->n_acc <= sum_cap[level] && o->ts_max - o->ts_min <= G_MAXUINT32 &&
      sum_arena_next (self, o->n_acc) + o->n_acc <= G_MAXUINT32)
    {
      SumEntry *e;

      blk->first = sum_arena_next (self, o->n_acc);
      e = sum_arena_alloc (self, o->n_acc);
      for (guint i = 0; i < o->n_acc; i++)
        e[i] = (SumEntry) { o->acc[i].event_id, o->acc[i].count,
                            (guint32) (o->acc[i].ts_min - o->ts_min),
                            (guint32) (o->acc[i].ts_max - o->ts_min) };
      blk->n = o->n_acc;
    }
  if (level + 1 < SUM_LEVELS)
    {
      SumOpen *up = &self->open[level + 1];

      up->ts_min = MIN (up->ts_min, o->ts_min);
      up->ts_max = MAX (up->ts_max, o->ts_max);
      if (o->overflow)
        up->overflow = TRUE;
      for (guint i = 0; i < o->n_acc && !up->overflow; i++)
        sum_open_add (up, o->acc[i].event_id, o->acc[i].count, o->acc[i].ts_min, o->acc[i].ts_max);
    }
  sum_open_clear (o);
}

/* The 64 records up to @c's newest were appended: counts them into the
 * open bottom block and closes every block they complete.  Not inlined:
 * append() runs 64 times as often and stays lean without it. */
static G_GNUC_NO_INLINE void
sum_records (IovEventStore *self,
             Chunk         *c)
{
  SumOpen *o = &self->open[0];
  const IovEventRecord *rec = c->records;
  guint end = c->n;
  guint64 lo = o->ts_min, hi = o->ts_max;

  for (guint i = end - (1u << SUM_L0_SHIFT); i < end; i++)
    {
      guint32 id = rec[i].event_id;
      guint64 ts = rec[i].ts_ns;

      if (G_UNLIKELY (id >= self->n_slot_of_id))
        sum_grow_slots (self, id + 1);
      sum_open_add (o, id, 1, ts, ts);
      lo = MIN (lo, ts);
      hi = MAX (hi, ts);
    }
  o->ts_min = lo;
  o->ts_max = hi;
  for (guint l = 0; l < SUM_LEVELS && (end & ((1u << SUM_SHIFT (l)) - 1)) == 0; l++)
    sum_close (self, c, l, (end >> SUM_SHIFT (l)) - 1);
}

static guint64
append (IovEventStore *self,
        guint64        ts_ns,
        guint          event_id,
        gsize          blob_len)
{
  Chunk *c = current_chunk (self, blob_len);
  IovEventRecord *r = &c->records[c->n];

  r->ts_ns = ts_ns;
  r->event_id = event_id;
  r->arg_off = NO_ARGS;
  if (blob_len > 0)
    {
      guint64 global;

      if (self->block_pos + blob_len > ARENA_BLOCK)
        {
          g_ptr_array_add (self->blocks, alloc_big ());
          self->block_pos = 0;
        }
      memcpy ((guint8 *) g_ptr_array_index (self->blocks, self->blocks->len - 1) + self->block_pos,
              self->scratch, blob_len);
      global = (guint64) (self->blocks->len - 1) * ARENA_BLOCK + self->block_pos;
      self->block_pos += blob_len;
      r->arg_off = (guint32) (global - c->arena_base);
    }
  if (c->n > 0 && ts_ns < c->records[c->n - 1].ts_ns)
    c->sorted = FALSE;
  if (self->n_events > 0 && ts_ns < self->last_ts)
    self->sorted = FALSE;
  c->ts_min = MIN (c->ts_min, ts_ns);
  c->ts_max = MAX (c->ts_max, ts_ns);
  c->n++;
  if ((c->n & ((1u << SUM_L0_SHIFT) - 1)) == 0)
    sum_records (self, c);
  self->last_ts = ts_ns;
  return self->n_events++;
}

/* Appends an event line (as iov_trace_parse_line() classified it; other
 * lines are ignored and G_MAXUINT64 returned).  Lines without a timestamp
 * get @arrival_ns.  Returns the event's index. */
guint64
iov_event_store_append_line (IovEventStore      *self,
                             const IovTraceLine *line,
                             guint64             arrival_ns)
{
  guint id;

  g_return_val_if_fail (self != NULL, G_MAXUINT64);
  g_return_val_if_fail (line != NULL, G_MAXUINT64);

  if (line->kind != IOV_TRACE_LINE_EVENT)
    return G_MAXUINT64;
  id = line->event_id >= 0 ? (guint) line->event_id
                           : iov_trace_catalog_intern (self->catalog, line->name, line->name_len);
  return append (self, line->has_ts ? line->ts_ns : arrival_ns, id,
                 encode_args (self, id, line->args, MIN (line->args_len, IOV_TRACE_MAX_LINE)));
}

guint64
iov_event_store_append_raw (IovEventStore *self,
                            guint64        ts_ns,
                            guint          event_id,
                            const char    *args,
                            gsize          len)
{
  g_return_val_if_fail (self != NULL, G_MAXUINT64);
  g_return_val_if_fail (event_id < iov_trace_catalog_get_n_events (self->catalog), G_MAXUINT64);

  return append (self, ts_ns, event_id, encode_args (self, event_id, args, MIN (len, IOV_TRACE_MAX_LINE)));
}

guint64
iov_event_store_get_n_events (IovEventStore *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_events;
}

static inline const IovEventRecord *
record_at (IovEventStore *self,
           guint64        index,
           Chunk        **chunk)
{
  Chunk *c = g_ptr_array_index (self->chunks, index >> CHUNK_SHIFT);

  if (chunk)
    *chunk = c;
  return &c->records[index & (CHUNK_EVENTS - 1)];
}

gboolean
iov_event_store_get (IovEventStore  *self,
                     guint64         index,
                     IovEventRecord *record)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (index >= self->n_events)
    return FALSE;
  *record = *record_at (self, index, NULL);
  return TRUE;
}

static const guint8 *
blob_at (IovEventStore        *self,
         const Chunk          *c,
         const IovEventRecord *r)
{
  guint64 global;

  if (r->arg_off == NO_ARGS)
    return NULL;
  global = c->arena_base + r->arg_off;
  return (const guint8 *) g_ptr_array_index (self->blocks, global / ARENA_BLOCK) + global % ARENA_BLOCK;
}

/* Decodes the arguments of event @index.  Typed: @args get names, kinds,
 * values (integers) and texts (strings; NULL for integers).  Raw: one
 * argument "raw" with the text and @typed FALSE. */
gboolean
iov_event_store_get_args (IovEventStore *self,
                          guint64        index,
                          IovTraceArg   *args,
                          guint         *n_args,
                          gboolean      *typed)
{
  const IovEventRecord *r;
  const guint8 *p;
  Chunk *c;
  guint n;

  g_return_val_if_fail (self != NULL, FALSE);

  *n_args = 0;
  if (typed)
    *typed = TRUE;
  if (index >= self->n_events)
    return FALSE;
  r = record_at (self, index, &c);
  p = blob_at (self, c, r);
  if (p == NULL)
    return TRUE;
  if (*p++ == BLOB_RAW)
    {
      guint64 len;

      p = get_varint (p, &len);
      args[0].name = "raw";
      args[0].kind = IOV_TRACE_ARG_STRING;
      args[0].text = (const char *) p;
      args[0].len = len;
      args[0].value = 0;
      *n_args = 1;
      if (typed)
        *typed = FALSE;
      return TRUE;
    }
  n = iov_trace_catalog_get_n_args (self->catalog, r->event_id);
  for (guint i = 0; i < n; i++)
    {
      IovTraceArg *a = &args[i];
      guint64 v;

      iov_trace_catalog_get_arg (self->catalog, r->event_id, i, &a->name, &a->kind);
      a->text = NULL;
      a->len = 0;
      a->value = 0;
      p = get_varint (p, &v);
      switch (a->kind)
        {
        case IOV_TRACE_ARG_HEX:
        case IOV_TRACE_ARG_UNSIGNED:
        case IOV_TRACE_ARG_OCTAL:
        case IOV_TRACE_ARG_POINTER:
          a->value = v;
          break;
        case IOV_TRACE_ARG_SIGNED:
          a->value = (v >> 1) ^ (guint64) -(gint64) (v & 1);
          break;
        case IOV_TRACE_ARG_CHAR:
        case IOV_TRACE_ARG_STRING:
        case IOV_TRACE_ARG_FLOAT:
        default:
          if (v & 1)
            {
              a->text = g_ptr_array_index (self->strings, v >> 1);
              a->len = g_array_index (self->string_lens, guint32, v >> 1);
            }
          else
            {
              a->text = (const char *) p;
              a->len = v >> 1;
              p += a->len;
            }
          break;
        }
    }
  *n_args = n;
  return TRUE;
}

/* Appends the argument text of event @index exactly as QEMU printed it. */
gboolean
iov_event_store_render_args (IovEventStore *self,
                             guint64        index,
                             GString       *out)
{
  IovTraceArg args[IOV_TRACE_MAX_ARGS];
  IovEventRecord r;
  gboolean typed;
  guint n;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!iov_event_store_get (self, index, &r) || !iov_event_store_get_args (self, index, args, &n, &typed))
    return FALSE;
  if (!typed)
    g_string_append_len (out, args[0].text, args[0].len);
  else
    iov_trace_catalog_render (self->catalog, r.event_id, args, n, out);
  return TRUE;
}

/* First index whose time is >= @ts_ns (for a store appended in time order,
 * which QEMU's log is); n_events when none. */
guint64
iov_event_store_lower_bound (IovEventStore *self,
                             guint64        ts_ns)
{
  guint lo = 0, hi;

  g_return_val_if_fail (self != NULL, 0);

  hi = self->chunks->len;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      Chunk *c = g_ptr_array_index (self->chunks, mid);

      if (c->ts_max < ts_ns)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == self->chunks->len)
    return self->n_events;
  {
    Chunk *c = g_ptr_array_index (self->chunks, lo);
    guint a = 0, b = c->n;

    while (a < b)
      {
        guint mid = (a + b) / 2;

        if (c->records[mid].ts_ns < ts_ns)
          a = mid + 1;
        else
          b = mid;
      }
    return ((guint64) lo << CHUNK_SHIFT) + a;
  }
}

static gboolean
arg_value (IovEventStore        *self,
           const Chunk          *c,
           const IovEventRecord *r,
           guint                 index,
           guint64              *value)
{
  const guint8 *p = blob_at (self, c, r);
  IovTraceArgKind kind;
  guint64 v = 0;

  if (p == NULL || *p++ != BLOB_TYPED)
    return FALSE;
  if (!iov_trace_catalog_get_arg (self->catalog, r->event_id, index, NULL, &kind))
    return FALSE;
  for (guint i = 0; i <= index; i++)
    {
      IovTraceArgKind k;

      iov_trace_catalog_get_arg (self->catalog, r->event_id, i, NULL, &k);
      p = get_varint (p, &v);
      if (i < index && (k == IOV_TRACE_ARG_STRING || k == IOV_TRACE_ARG_CHAR || k == IOV_TRACE_ARG_FLOAT) && !(v & 1))
        p += v >> 1;
    }
  switch (kind)
    {
    case IOV_TRACE_ARG_HEX:
    case IOV_TRACE_ARG_UNSIGNED:
    case IOV_TRACE_ARG_OCTAL:
    case IOV_TRACE_ARG_POINTER:
      *value = v;
      return TRUE;
    case IOV_TRACE_ARG_SIGNED:
      *value = (v >> 1) ^ (guint64) -(gint64) (v & 1);
      return TRUE;
    case IOV_TRACE_ARG_CHAR:
    case IOV_TRACE_ARG_STRING:
    case IOV_TRACE_ARG_FLOAT:
    default:
      return FALSE;
    }
}

/* Per-pixel binning: splits [t0, t1) into @n_bins equal bins and fills
 * @bins with the number of events (of @event_ids, or all when
 * @n_event_ids is 0) and the min/max of integer argument @arg_index, or of
 * the time when @arg_index < 0.  A bin without values has min > max. */
gboolean
iov_event_store_bin (IovEventStore  *self,
                     guint64         t0_ns,
                     guint64         t1_ns,
                     guint           n_bins,
                     const guint    *event_ids,
                     guint           n_event_ids,
                     int             arg_index,
                     IovEventBin    *bins,
                     GError        **error)
{
  g_autofree guint8 *filter = NULL;
  guint n_ids;
  double scale;

  g_return_val_if_fail (self != NULL, FALSE);

  if (n_bins == 0 || t1_ns <= t0_ns)
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, "empty time range or no bins");
      return FALSE;
    }
  for (guint i = 0; i < n_bins; i++)
    {
      bins[i].count = 0;
      bins[i].min = G_MAXUINT64;
      bins[i].max = 0;
    }
  n_ids = iov_trace_catalog_get_n_events (self->catalog);
  if (n_event_ids > 0)
    {
      filter = g_new0 (guint8, n_ids + 1);
      for (guint i = 0; i < n_event_ids; i++)
        if (event_ids[i] < n_ids)
          filter[event_ids[i]] = 1;
    }
  scale = (double) n_bins / (double) (t1_ns - t0_ns);

  for (guint ci = 0; ci < self->chunks->len; ci++)
    {
      Chunk *c = g_ptr_array_index (self->chunks, ci);
      guint start = 0;

      if (c->n == 0 || c->ts_max < t0_ns || c->ts_min >= t1_ns)
        continue;
      if (c->sorted)
        {
          guint a = 0, b = c->n;

          while (a < b)
            {
              guint mid = (a + b) / 2;

              if (c->records[mid].ts_ns < t0_ns)
                a = mid + 1;
              else
                b = mid;
            }
          start = a;
        }
      for (guint i = start; i < c->n; i++)
        {
          const IovEventRecord *r = &c->records[i];
          guint64 v;
          guint b;

          if (r->ts_ns >= t1_ns)
            {
              if (c->sorted)
                break;
              continue;
            }
          if (r->ts_ns < t0_ns)
            continue;
          if (filter != NULL && (r->event_id >= n_ids || !filter[r->event_id]))
            continue;
          b = (guint) ((double) (r->ts_ns - t0_ns) * scale);
          if (b >= n_bins)
            b = n_bins - 1;
          bins[b].count++;
          if (arg_index < 0)
            v = r->ts_ns;
          else if (!arg_value (self, c, r, arg_index, &v))
            continue;
          bins[b].min = MIN (bins[b].min, v);
          bins[b].max = MAX (bins[b].max, v);
        }
    }
  return TRUE;
}

typedef struct
{
  guint64      t0;
  guint64      t1;
  double       scale;
  guint        n_bins;
  const guint *row_of_event_id;
  guint        n_ids;
  guint        n_rows;
  IovEventBin *bins;
  SumEntry * const *sum_arena;
} MultiQuery;

/* The same arithmetic as iov_event_store_bin(), so that both put an event
 * in the same bin.  It never decreases as @ts grows: a block whose first
 * and last times fall in one bin lies wholly in it. */
static inline guint
multi_bin_of (const MultiQuery *q,
              guint64           ts)
{
  guint b = (guint) ((double) (ts - q->t0) * q->scale);

  return MIN (b, q->n_bins - 1);
}

static inline void
multi_add (const MultiQuery *q,
           guint32           event_id,
           guint             b,
           guint64           count,
           guint64           ts_min,
           guint64           ts_max)
{
  IovEventBin *bin;
  guint row;

  if (event_id >= q->n_ids || (row = q->row_of_event_id[event_id]) >= q->n_rows)
    return;
  bin = &q->bins[(gsize) row * q->n_bins + b];
  bin->count += count;
  bin->min = MIN (bin->min, ts_min);
  bin->max = MAX (bin->max, ts_max);
}

static void
multi_walk (const MultiQuery *q,
            const Chunk      *c,
            guint             start,
            guint             end)
{
  const IovEventRecord *rec = c->records;

  if (c->sorted)
    {
      /* in time order: split the records into runs that share a bin, found
       * by bisection, rather than placing each one */
      while (start < end && rec[start].ts_ns < q->t0)
        start++;
      while (end > start && rec[end - 1].ts_ns >= q->t1)
        end--;
      while (start < end)
        {
          guint b = multi_bin_of (q, rec[start].ts_ns);
          guint lo = start + 1, hi = end;

          while (lo < hi)
            {
              guint mid = lo + (hi - lo) / 2;

              if (multi_bin_of (q, rec[mid].ts_ns) > b)
                hi = mid;
              else
                lo = mid + 1;
            }
          for (guint i = start; i < lo; i++)
            multi_add (q, rec[i].event_id, b, 1, rec[i].ts_ns, rec[i].ts_ns);
          start = lo;
        }
      return;
    }

  for (guint i = start; i < end; i++)
    {
      const IovEventRecord *r = &rec[i];

      if (r->ts_ns >= q->t0 && r->ts_ns < q->t1)
        multi_add (q, r->event_id, multi_bin_of (q, r->ts_ns), 1, r->ts_ns, r->ts_ns);
    }
}

/* Block @b of @level: skipped when out of range, added from its summary
 * when it lies in one bin, else split into its children (or its records
 * at the bottom).  Incomplete blocks (the newest) have no summary yet. */
static void
multi_block (const MultiQuery *q,
             const Chunk      *c,
             guint             level,
             guint             b)
{
  guint start = b << SUM_SHIFT (level);
  guint end;

  if (start >= c->n)
    return;
  end = start + (1u << SUM_SHIFT (level));
  if (end <= c->n)
    {
      const SumBlock *blk = &c->sum[sum_base[level] + b];
      guint bin;

      if (blk->ts_max < q->t0 || blk->ts_min >= q->t1)
        return;
      if (blk->n != SUM_NONE && blk->ts_min >= q->t0 && blk->ts_max < q->t1 &&
          (bin = multi_bin_of (q, blk->ts_min)) == multi_bin_of (q, blk->ts_max))
        {
          const SumEntry *entries = sum_entries (q->sum_arena, blk->first);

          for (guint e = 0; e < blk->n; e++)
            {
              const SumEntry *x = &entries[e];

              multi_add (q, x->event_id, bin, x->count, blk->ts_min + x->dt_min, blk->ts_min + x->dt_max);
            }
          return;
        }
    }
  else
    end = c->n;

  if (level == 0)
    {
      multi_walk (q, c, start, end);
      return;
    }
  for (guint i = 0; i < SUM_FANOUT; i++)
    multi_block (q, c, level - 1, (b << SUM_FANOUT_SHIFT) + i);
}

/* Per-pixel binning of several rows at once, in one pass: splits [t0, t1)
 * into @n_bins equal bins and fills row r of @bins (@n_rows × @n_bins,
 * row after row) with the number of events whose catalogue id i has
 * @row_of_event_id[i] == r, and the min/max of their times.  Ids with a
 * row of @n_rows or more (G_MAXUINT), and ids from @n_ids on, are not
 * binned.  The result is that of one iov_event_store_bin() per row with
 * @arg_index -1, but a bin that holds whole blocks of events costs a few
 * summaries instead of a walk over them. */
gboolean
iov_event_store_bin_multi (IovEventStore  *self,
                           guint64         t0_ns,
                           guint64         t1_ns,
                           guint           n_bins,
                           const guint    *row_of_event_id,
                           guint           n_ids,
                           guint           n_rows,
                           IovEventBin    *bins,
                           GError        **error)
{
  MultiQuery q;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (row_of_event_id != NULL || n_ids == 0, FALSE);
  g_return_val_if_fail (bins != NULL || n_rows == 0, FALSE);

  if (n_bins == 0 || t1_ns <= t0_ns)
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, "empty time range or no bins");
      return FALSE;
    }
  for (gsize i = 0; i < (gsize) n_rows * n_bins; i++)
    {
      bins[i].count = 0;
      bins[i].min = G_MAXUINT64;
      bins[i].max = 0;
    }
  if (n_rows == 0 || n_ids == 0)
    return TRUE;

  q.t0 = t0_ns;
  q.t1 = t1_ns;
  q.scale = (double) n_bins / (double) (t1_ns - t0_ns);
  q.n_bins = n_bins;
  q.row_of_event_id = row_of_event_id;
  q.n_ids = n_ids;
  q.n_rows = n_rows;
  q.bins = bins;
  q.sum_arena = (SumEntry * const *) self->sum_arena->pdata;

  /* the chunks' time ranges are the top of the index */
  for (guint ci = 0; ci < self->chunks->len; ci++)
    {
      const Chunk *c = g_ptr_array_index (self->chunks, ci);
      const guint top = SUM_LEVELS - 1;

      if (c->n == 0 || c->ts_max < t0_ns || c->ts_min >= t1_ns)
        continue;
      for (guint b = 0; b < SUM_N_BLOCKS (top); b++)
        multi_block (&q, c, top, b);
    }
  return TRUE;
}

/* Bytes used by the events: records plus the argument arena, the interned
 * strings and the count pyramid (the unused tails of the last chunk and
 * of the last block of each arena are not counted; they are at most
 * 6 MiB). */
gsize
iov_event_store_get_memory (IovEventStore *self)
{
  gsize bytes;

  g_return_val_if_fail (self != NULL, 0);

  bytes = self->n_events * sizeof (IovEventRecord) + (gsize) self->chunks->len * sizeof (Chunk);
  if (self->sum_arena->len > 0)
    bytes += ((gsize) (self->sum_arena->len - 1) * SUM_ARENA_ENTRIES + self->sum_pos) * sizeof (SumEntry);
  bytes += SUM_LEVELS * ((gsize) self->n_slot_of_id * sizeof (guint32) + SUM_MAX_CAP * sizeof (SumAcc));
  if (self->blocks->len > 0)
    bytes += (gsize) (self->blocks->len - 1) * ARENA_BLOCK + self->block_pos;
  for (guint i = 0; i < self->strings->len; i++)
    bytes += g_array_index (self->string_lens, guint32, i) + 1;
  return bytes;
}
