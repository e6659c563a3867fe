/*
 * MA_CROSSOVER (id 100): moving-average crossover with ATR stop and target.
 *
 * Parameters: ADDITIONAL_PARAM_1 FAST_PERIOD int [1,500] (10),
 *             ADDITIONAL_PARAM_2 SLOW_PERIOD int [2,1000] (30), FAST < SLOW,
 *             ADDITIONAL_PARAM_3 MA_TYPE int [0,1] (0 = SMA, 1 = EMA),
 *             SL_ATR_MULTIPLIER, TP_ATR_MULTIPLIER, ATR_AVERAGING_PERIOD.
 * Slot 0 (primary timeframe): needs max(SLOW + 2, ATR_AVERAGING_PERIOD + 2) bars.
 *
 * On the last closed bar (index n-2), fast crossing above slow (fast > slow
 * now, fast <= slow on the bar before) closes all SELLs and opens a BUY when no
 * BUY is open; the mirror image for a cross below. SL = SL_ATR_MULTIPLIER x
 * ATR, TP = TP_ATR_MULTIPLIER x ATR (0 = none), both as distances.
 */
#include "ask_internal.h"

int ask_strategy_ma_crossover(AskContext* ctx) {
  int fast, slow, ma_type, atr_period;
  double sl_mult, tp_mult;
  if (ask_int_setting(ctx, ADDITIONAL_PARAM_1, 1, 500, &fast) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 1, 2, 1000, &slow) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 2, 0, 1, &ma_type) || fast >= slow ||
      ask_atr_settings(ctx, &sl_mult, &tp_mult, &atr_period))
    return INVALID_PARAMETER;

  const AskRatesView* view = &ctx->slots[0];
  int n = view->count;
  if (n < slow + 2 || n < atr_period + 2) return NOT_ENOUGH_RATES_DATA;
  int last = n - 2;

  double f[2], s[2];
  if (ma_type == 0) {
    ask_sma(view->bars, last, fast, f, 2);
    ask_sma(view->bars, last, slow, s, 2);
  } else {
    ask_ema(view->bars, last, fast, f, 2);
    ask_ema(view->bars, last, slow, s, 2);
  }
  ask_apply_timed_exit(ctx);

  int cross_up = f[1] > s[1] && f[0] <= s[0];
  int cross_down = f[1] < s[1] && f[0] >= s[0];
  if (!cross_up && !cross_down) return SUCCESS;
  /* The ATR sizes the stops of an entry only: a bar without a cross (most bars) skips its Wilder
   * recursion over the whole window, which would otherwise cost more than the rest of the call. */
  double atr;
  ask_atr(view->bars, last, atr_period, &atr, 1);
  if (cross_up) {
    if (ctx->open_count[SELL] > 0) ask_emit_close(ctx, SELL, ASK_ALL_ORDER_TICKETS);
    if (ctx->open_count[BUY] == 0)
      ask_emit_open_market(ctx, BUY, sl_mult * atr, tp_mult * atr, atr);
  } else if (cross_down) {
    if (ctx->open_count[BUY] > 0) ask_emit_close(ctx, BUY, ASK_ALL_ORDER_TICKETS);
    if (ctx->open_count[SELL] == 0)
      ask_emit_open_market(ctx, SELL, sl_mult * atr, tp_mult * atr, atr);
  }
  return SUCCESS;
}
