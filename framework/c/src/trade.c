/*
 * trade.c - machinery shared by every strategy: sizing, entry gating, result
 * rows (one action per row, never beyond MAX_OPEN_ORDERS rows; an entry with no
 * free row shares a close's row), dropped actions with their reason, timed exits.
 */
#include <math.h>

#include "ask_internal.h"

int ask_open_orders_total(const AskContext* ctx) {
  int total = 0;
  for (int t = 0; t < 6; ++t) total += ctx->open_count[t];
  return total;
}

int ask_entry_block(const AskContext* ctx) {
  if (ctx->entry_block) return ctx->entry_block;
  if (ask_open_orders_total(ctx) >= ctx->max_open_orders) return ASK_DROP_MAX_OPEN;
  return 0;
}

/* lots = (risk% / 100) * equity / (distance * contractSize * quoteConversion),
 * rounded down to 0.01 and at least 0.01. distance is the SL distance, or the
 * ATR when the strategy trades without a stop. 0 means "cannot size". */
double ask_lots(const AskContext* ctx, double sl_distance, double atr) {
  double distance = sl_distance > 0.0 ? sl_distance : atr;
  if (!(distance > 0.0) || !(ctx->equity > 0.0)) return 0.0;
  double risk = ask_param(ctx, ACCOUNT_RISK_PERCENT) / 100.0 * ctx->equity;
  double raw = risk / (distance * ctx->contract_size * ctx->quote_conversion);
  if (!isfinite(raw)) return 0.0;
  double lots = floor(raw * 100.0 + 1e-7) / 100.0;
  return lots < 0.01 ? 0.01 : lots;
}

static int signal_bit(int action, int order_type) {
  static const int base[3] = {SIGNAL_OPEN_BUY, SIGNAL_OPEN_BUYLIMIT, SIGNAL_OPEN_BUYSTOP};
  int bit = base[order_type / 2] << action; /* action: 0 open, 1 close, 2 update */
  return (order_type % 2) ? bit << 16 : bit;
}

static int drop(AskContext* ctx, int action, int order_type, int reason) {
  if (ctx->drop_count < ASK_MAX_DROPS) {
    int* d = ctx->drops[ctx->drop_count];
    d[0] = signal_bit(action, order_type);
    d[1] = order_type;
    d[2] = reason;
  }
  ctx->drop_count += 1;
  return 0;
}

static StrategyResults* next_row(AskContext* ctx) {
  if (ctx->rows_used >= ctx->result_rows) return 0;
  return &ctx->results[ctx->rows_used++];
}

/* Every close bit of the mask (bits 1, 8, 64 shifted by 1, and their SELL-side twins). */
#define ASK_CLOSE_BITS                                                                   \
  (SIGNAL_CLOSE_BUY | SIGNAL_CLOSE_SELL | SIGNAL_CLOSE_BUYLIMIT | SIGNAL_CLOSE_SELLLIMIT | \
   SIGNAL_CLOSE_BUYSTOP | SIGNAL_CLOSE_SELLSTOP)

/* A row holding only closes: an entry may share it (its fields other than the ticket are free). */
static StrategyResults* close_row(AskContext* ctx) {
  for (int r = 0; r < ctx->rows_used; ++r) {
    int mask = (int)ctx->results[r].tradingSignals;
    if (mask && (mask & ~ASK_CLOSE_BITS) == 0) return &ctx->results[r];
  }
  return 0;
}

static int emit_open(AskContext* ctx, int order_type, double price, double sl, double tp,
                     double atr, double expiration) {
  int block = ask_entry_block(ctx);
  if (block) return drop(ctx, 0, order_type, block);
  double lots = ask_lots(ctx, sl, atr);
  if (lots <= 0.0) return drop(ctx, 0, order_type, ASK_DROP_NO_SIZE);
  StrategyResults* row = next_row(ctx);
  int shared = 0;
  if (!row) {
    row = close_row(ctx);
    shared = 1;
  }
  if (!row) return drop(ctx, 0, order_type, ASK_DROP_ROWS_FULL);
  if (!shared) row->ticketNumber = 0.0;
  row->tradingSignals = (double)((shared ? (int)row->tradingSignals : 0) | signal_bit(0, order_type));
  row->lots = lots;
  row->entryPrice = price;
  row->brokerSL = sl;
  row->brokerTP = tp;
  row->expirationTime = expiration;
  ctx->open_count[order_type] += 1;
  return 1;
}

int ask_emit_open_market(AskContext* ctx, int order_type, double sl, double tp, double atr) {
  double price = order_type == BUY ? ctx->ask : ctx->bid;
  return emit_open(ctx, order_type, price, sl, tp, atr, 0.0);
}

int ask_emit_open_pending(AskContext* ctx, int order_type, double price, double sl, double tp,
                          double atr, double expiration) {
  return emit_open(ctx, order_type, price, sl, tp, atr, expiration);
}

int ask_emit_close(AskContext* ctx, int order_type, double ticket) {
  StrategyResults* row = next_row(ctx);
  if (!row) return drop(ctx, 1, order_type, ASK_DROP_ROWS_FULL);
  row->ticketNumber = ticket;
  row->tradingSignals = (double)signal_bit(1, order_type);
  if (ticket == ASK_ALL_ORDER_TICKETS) ctx->open_count[order_type] = 0;
  else if (ctx->open_count[order_type] > 0) ctx->open_count[order_type] -= 1;
  return 1;
}

int ask_emit_update(AskContext* ctx, int order_type, double ticket, double sl, double tp,
                    int trailing) {
  StrategyResults* row = next_row(ctx);
  if (!row) return drop(ctx, 2, order_type, ASK_DROP_ROWS_FULL);
  row->ticketNumber = ticket;
  row->tradingSignals = (double)signal_bit(2, order_type);
  row->brokerSL = sl;
  row->brokerTP = tp;
  row->useTrailingSL = trailing ? 1.0 : 0.0;
  return 1;
}

void ask_apply_timed_exit(AskContext* ctx) {
  int bars = (int)ask_param(ctx, TIMED_EXIT_BARS);
  if (bars <= 0) return;
  double limit = (double)bars * ctx->timeframe * 60.0;
  for (int i = 0; i < ctx->order_count; ++i) {
    const COrderInfo* o = &ctx->orders[i];
    if (o->ticket == 0.0 || o->isOpen == 0.0) continue;
    int type = (int)o->type;
    if (type != BUY && type != SELL) continue;
    if ((double)ctx->current_time - o->openTime >= limit) ask_emit_close(ctx, type, o->ticket);
  }
}
