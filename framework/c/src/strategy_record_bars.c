/*
 * RECORD_BARS (id 19, legacy id). Never trades. The legacy strategy appended
 * the last closed bar to a CSV file; ours writes no files, so a successful call
 * only confirms that slot 0 holds at least one closed bar (2 bars in all).
 */
#include "ask_internal.h"

int ask_strategy_record_bars(AskContext* ctx) {
  if (ctx->slots[0].count < 2) return NOT_ENOUGH_RATES_DATA;
  return SUCCESS;
}
