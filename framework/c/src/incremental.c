/*
 * incremental.c - the Donchian deques of ask_incremental.h and asirikuy_indicator_incremental, which
 * runs an incremental state over a series so tests can hold it to asirikuy_indicator (full history).
 */
#include <math.h>
#include <stdlib.h>

#include "ask_incremental.h"
#include "asirikuy_backtest.h"

int ask_inc_donchian_init(AskIncDonchian* d, int period) {
  d->period = period;
  d->hi_head = d->hi_len = d->lo_head = d->lo_len = 0;
  d->hi = (int*)malloc((size_t)period * sizeof(int));
  d->lo = (int*)malloc((size_t)period * sizeof(int));
  if (d->hi && d->lo) return 1;
  ask_inc_donchian_free(d);
  return 0;
}

void ask_inc_donchian_free(AskIncDonchian* d) {
  free(d->hi);
  free(d->lo);
  d->hi = d->lo = NULL;
}

static int wrap(int index, int period) { return index >= period ? index - period : index; }

/* Bar j enters; the one that left the window (j - period) goes first, so a deque never holds more
 * than period indices. Back entries the new bar dominates can never be the extreme again. */
void ask_inc_donchian_push(AskIncDonchian* d, const CRates* bars, int j) {
  int p = d->period;
  if (d->hi_len && d->hi[d->hi_head] <= j - p) {
    d->hi_head = wrap(d->hi_head + 1, p);
    d->hi_len--;
  }
  if (d->lo_len && d->lo[d->lo_head] <= j - p) {
    d->lo_head = wrap(d->lo_head + 1, p);
    d->lo_len--;
  }
  while (d->hi_len && bars[d->hi[wrap(d->hi_head + d->hi_len - 1, p)]].high <= bars[j].high)
    d->hi_len--;
  d->hi[wrap(d->hi_head + d->hi_len, p)] = j;
  d->hi_len++;
  while (d->lo_len && bars[d->lo[wrap(d->lo_head + d->lo_len - 1, p)]].low >= bars[j].low)
    d->lo_len--;
  d->lo[wrap(d->lo_head + d->lo_len, p)] = j;
  d->lo_len++;
}

ASK_EXPORT int ASK_API asirikuy_indicator_incremental(int kind, const CRates* pRates, int count,
                                                      int period, double param, double* pOut) {
  if (pRates == NULL || pOut == NULL) return NULL_POINTER;
  if (count < 1 || period < 1 || period > count || !isfinite(param)) return INVALID_PARAMETER;
  if (kind == ASK_IND_EMA) {
    AskIncEma e;
    ask_inc_ema_init(&e, period);
    for (int j = 0; j < count; ++j) {
      ask_inc_ema_push(&e, pRates, j);
      pOut[j] = j >= period - 1 ? e.value : NAN;
    }
  } else if (kind == ASK_IND_ATR) {
    AskIncAtr a;
    ask_inc_atr_init(&a, period);
    for (int j = 0; j < count; ++j) {
      ask_inc_atr_push(&a, pRates, j);
      pOut[j] = j >= period ? a.value : NAN;
    }
  } else if (kind == ASK_IND_RSI) {
    AskIncRsi r;
    ask_inc_rsi_init(&r, period);
    for (int j = 0; j < count; ++j) {
      ask_inc_rsi_push(&r, pRates, j);
      pOut[j] = j >= period ? ask_inc_rsi_value(&r) : NAN;
    }
  } else if (kind == ASK_IND_DONCHIAN_HIGH || kind == ASK_IND_DONCHIAN_LOW) {
    AskIncDonchian d;
    if (!ask_inc_donchian_init(&d, period)) return INSUFFICIENT_MEMORY;
    for (int j = 0; j < count; ++j) {
      ask_inc_donchian_push(&d, pRates, j);
      pOut[j] = j < period - 1                   ? NAN
                : kind == ASK_IND_DONCHIAN_HIGH ? ask_inc_donchian_high(&d, pRates)
                                                 : ask_inc_donchian_low(&d, pRates);
    }
    ask_inc_donchian_free(&d);
  } else {
    return INVALID_PARAMETER;
  }
  return SUCCESS;
}
