/* iov-outcome-list.h — one step's outcomes as a GListModel, items on demand
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

#pragma once

#include <gio/gio.h>

#include "iov-system.h"

G_BEGIN_DECLS

/* The columns an item can be read as. */
typedef enum
{
  IOV_OUTCOME_COLUMN_EVENT,      /* "1 ◆ DEVIOTLB" */
  IOV_OUTCOME_COLUMN_IOVA,
  IOV_OUTCOME_COLUMN_SIZE,       /* addr_mask and IEC size */
  IOV_OUTCOME_COLUMN_NOTIFIER,
  IOV_OUTCOME_COLUMN_OUTCOME,
  IOV_OUTCOME_COLUMN_DELIVERED,  /* the range the notifier got */
  IOV_OUTCOME_N_COLUMNS
} IovOutcomeColumn;

#define IOV_TYPE_OUTCOME_ITEM (iov_outcome_item_get_type ())

G_DECLARE_FINAL_TYPE (IovOutcomeItem, iov_outcome_item, IOV, OUTCOME_ITEM, GObject)

const char *iov_outcome_item_get_text     (IovOutcomeItem *self,
                                           IovOutcomeColumn column);
/* abort, delivered, cropped, skipped… for styling. */
IovResult   iov_outcome_item_get_result   (IovOutcomeItem *self);
gboolean    iov_outcome_item_get_cropped  (IovOutcomeItem *self);

#define IOV_TYPE_OUTCOME_LIST (iov_outcome_list_get_type ())

G_DECLARE_FINAL_TYPE (IovOutcomeList, iov_outcome_list, IOV, OUTCOME_LIST, GObject)

IovOutcomeList *iov_outcome_list_new      (void);
/* Copies what it shows of @step (NULL: empty). One row per outcome, plus
 * one for each event nobody was visited for. Items are made when asked
 * for, never kept. */
void            iov_outcome_list_set_step (IovOutcomeList      *self,
                                           const IovStepResult *step,
                                           const IovProfile    *profile);

G_END_DECLS
