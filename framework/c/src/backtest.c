/*
 * backtest.c - the fast backtest engine (our own export next to the ABI).
 *
 * One call replays every bar: the simulated broker processes the bar, the
 * strategy runs at its close through the same AskContext and strategy
 * functions as c_runStrategy, its rows are translated into orders and the
 * orders simulated. Each step mirrors, expression for expression and in the
 * same order, the Python parity engine:
 *   broker rules      brokers/paper/rules.py, backtests/engine/broker.py
 *   book and inputs   backtests/engine/parity.py (trading/services/execution)
 *   translation       trading/services/execution/translate.py
 * so both produce bit-identical trades. Windows are views into the caller's
 * series: the forming bar is written into the element after the window and
 * restored after the call, so nothing is copied per bar.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_internal.h"

#define DAY 86400LL

enum { R_STRATEGY = 0, R_STOP_LOSS = 1, R_TAKE_PROFIT = 2, R_END = 3, R_STOP_OUT = 4 };
enum { OT_MARKET = 0, OT_STOP = 1, OT_LIMIT = 2 };

typedef struct BtTrade {
  long long ticket, units_ticks, open_time, open_price, stop_loss, take_profit;
  int buy, order_type;
  double units;
} BtTrade;

typedef struct BtOrder {
  long long ticket, units_ticks, price, stop_loss, take_profit, expires, created;
  int buy, stop;
  double units;
} BtOrder;

typedef struct Sim {
  const AskBtInput* in;
  double scale, unit_scale, balance;
  BtTrade* trades;
  int n_trades, cap_trades;
  BtOrder* orders;
  int n_orders, cap_orders;
  AskBtTrade* closed;
  int n_closed, cap_closed;
  long long next_ticket;
  int rejected;
  unsigned version; /* bumped on every change of the book (open, close, modify, cancel, expiry) */
} Sim;

typedef struct Signal {
  int action; /* 0 open, 1 close, 2 update (SignalAction order in framework/types.py) */
  int type;
  double ticket, lots, entry, sl, tp, expiration;
} Signal;

typedef struct Position { /* translate.PositionView */
  long long ticket, units_ticks, stop_loss, take_profit;
  int buy, pending; /* pending: 0 none, 1 limit, 2 stop */
} Position;

static int grow(void** p, int* cap, int need, size_t size) {
  if (need <= *cap) return 1;
  int cap2 = *cap ? *cap * 2 : 64;
  while (cap2 < need) cap2 *= 2;
  void* q = realloc(*p, (size_t)cap2 * size);
  if (!q) return 0;
  *p = q;
  *cap = cap2;
  return 1;
}

/* ---- money (broker.py) -------------------------------------------------- */

static inline double rate_at(const Sim* s, long long price) {
  if (s->in->rate_mode == 1) return 1.0 / ((double)price / s->scale);
  return s->in->fixed_rate;
}

static inline double pl_of(const Sim* s, int buy, double units, long long open_price, long long price) {
  long long diff = buy ? price - open_price : open_price - price;
  return (double)diff * units / s->scale * rate_at(s, price);
}

static inline double unrealized(const Sim* s, long long bid, long long ask) {
  double total = 0.0;
  for (int i = 0; i < s->n_trades; ++i) {
    const BtTrade* t = &s->trades[i];
    total += pl_of(s, t->buy, t->units, t->open_price, t->buy ? bid : ask);
  }
  return total;
}

static int rollover_nights(long long open_time, long long close_time) {
  static const int nights[7] = {0, 1, 1, 3, 1, 1, 0};
  int total = 0;
  long long a = open_time >= 0 ? open_time / DAY : -((-open_time + DAY - 1) / DAY);
  long long b = close_time >= 0 ? close_time / DAY : -((-close_time + DAY - 1) / DAY);
  for (long long d = a + 1; d <= b; ++d) total += nights[(int)(((d + 3) % 7 + 7) % 7)];
  return total;
}

static int close_trade(Sim* s, int index, long long price, long long time, int reason) {
  BtTrade t = s->trades[index];
  memmove(&s->trades[index], &s->trades[index + 1],
          (size_t)(s->n_trades - index - 1) * sizeof(BtTrade));
  s->n_trades -= 1;
  s->version += 1;
  const AskBtInput* in = s->in;
  double pl = pl_of(s, t.buy, t.units, t.open_price, price);
  double lots = t.units / in->contract_size;
  double commission = in->commission_per_lot * lots;
  double swap_rate = t.buy ? in->swap_long : in->swap_short;
  double swap = (double)rollover_nights(t.open_time, time) * swap_rate * lots;
  double profit = pl - commission + swap;
  s->balance += profit;
  if (!grow((void**)&s->closed, &s->cap_closed, s->n_closed + 1, sizeof(AskBtTrade))) return 0;
  AskBtTrade* c = &s->closed[s->n_closed++];
  c->ticket = t.ticket;
  c->side = t.buy ? 0 : 1;
  c->order_type = t.order_type;
  c->units_ticks = t.units_ticks;
  c->open_time = t.open_time;
  c->close_time = time;
  c->open_price = t.open_price;
  c->close_price = price;
  c->stop_loss = t.stop_loss;
  c->take_profit = t.take_profit;
  c->reason = reason;
  c->units = t.units;
  c->pl = pl;
  c->commission = commission;
  c->swap = swap;
  c->profit = profit;
  return 1;
}

static int close_all(Sim* s, long long bid, long long ask, long long time, int reason) {
  while (s->n_trades > 0)
    if (!close_trade(s, 0, s->trades[0].buy ? bid : ask, time, reason)) return 0;
  if (s->n_orders) s->version += 1;
  s->n_orders = 0;
  return 1;
}

/* ---- bar rules (brokers/paper/rules.py) ------------------------------- */

static int pending_fill(int buy, int stop, long long level, long long o, long long h, long long lo,
                        long long spread, long long* out) {
  if (buy) {
    o += spread;
    h += spread;
    lo += spread;
  }
  if (buy == stop) {
    if (o >= level) { *out = o; return 1; }
    if (h >= level) { *out = level; return 1; }
    return 0;
  }
  if (o <= level) { *out = o; return 1; }
  if (lo <= level) { *out = level; return 1; }
  return 0;
}

/* 0 none, R_STOP_LOSS or R_TAKE_PROFIT with *out the price. sl/tp 0 = none. */
static int exit_hit(int buy, long long sl, long long tp, long long o, long long h, long long lo,
                    long long spread, long long* out) {
  int sl_open, tp_open, sl_hit, tp_hit;
  if (buy) {
    sl_open = sl && o <= sl;
    tp_open = tp && o >= tp;
    sl_hit = sl && lo <= sl;
    tp_hit = tp && h >= tp;
  } else {
    o += spread;
    h += spread;
    lo += spread;
    sl_open = sl && o >= sl;
    tp_open = tp && o <= tp;
    sl_hit = sl && h >= sl;
    tp_hit = tp && lo <= tp;
  }
  if (sl_open) { *out = o; return R_STOP_LOSS; }
  if (tp_open) { *out = o; return R_TAKE_PROFIT; }
  if (sl_hit) { *out = sl; return R_STOP_LOSS; }
  if (tp_hit) { *out = tp; return R_TAKE_PROFIT; }
  return 0;
}

static int on_bar(Sim* s, int i) {
  if (s->n_orders == 0 && s->n_trades == 0) return 1;
  const AskBtInput* in = s->in;
  long long o = in->open[i], h = in->high[i], lo = in->low[i], sp = in->spread[i];
  long long t = in->time_open[i], slip = in->slippage;
  int opened_now = 0;
  if (s->n_orders > 0) {
    int keep = 0;
    for (int k = 0; k < s->n_orders; ++k) {
      BtOrder order = s->orders[k];
      if (order.expires && order.expires <= t) {
        s->version += 1;
        continue;
      }
      long long price;
      if (!pending_fill(order.buy, order.stop, order.price, o, h, lo, sp, &price)) {
        s->orders[keep++] = order;
        continue;
      }
      if (order.stop) price = order.buy ? price + slip : price - slip;
      if (!grow((void**)&s->trades, &s->cap_trades, s->n_trades + 1, sizeof(BtTrade))) return 0;
      BtTrade* nt = &s->trades[s->n_trades++];
      nt->ticket = s->next_ticket++;
      nt->buy = order.buy;
      nt->order_type = order.stop ? OT_STOP : OT_LIMIT;
      nt->units_ticks = order.units_ticks;
      nt->units = order.units;
      nt->open_time = t;
      nt->open_price = price;
      nt->stop_loss = order.stop_loss;
      nt->take_profit = order.take_profit;
      opened_now += 1;
      s->version += 1;
    }
    s->n_orders = keep;
  }
  int checked = s->n_trades - opened_now;
  int index = 0;
  while (index < checked) {
    const BtTrade* tr = &s->trades[index];
    long long price;
    int kind = exit_hit(tr->buy, tr->stop_loss, tr->take_profit, o, h, lo, sp, &price);
    if (!kind) {
      ++index;
      continue;
    }
    if (kind == R_STOP_LOSS) price = tr->buy ? price - slip : price + slip;
    if (!close_trade(s, index, price, t, kind)) return 0;
    checked -= 1;
  }
  return 1;
}

/* ---- orders from intents (broker.py) ---------------------------------- */

static int stops_ok(const Sim* s, int buy, long long reference, long long* sl, long long* tp) {
  long long d = s->in->min_stop;
  if (d <= 0) return 1;
  int widen = s->in->min_stop_widen;
  if (*sl) {
    int bad = buy ? (reference - *sl < d) : (*sl - reference < d);
    if (bad) {
      if (!widen) return 0;
      *sl = buy ? reference - d : reference + d;
    }
  }
  if (*tp) {
    int bad = buy ? (*tp - reference < d) : (reference - *tp < d);
    if (bad) {
      if (!widen) return 0;
      *tp = buy ? reference + d : reference - d;
    }
  }
  return 1;
}

static int open_market(Sim* s, int buy, long long ticks, long long sl, long long tp, long long bid,
                       long long ask, long long time) {
  long long slip = s->in->slippage;
  long long price = buy ? ask + slip : bid - slip;
  if (!stops_ok(s, buy, buy ? bid : ask, &sl, &tp)) {
    s->rejected += 1;
    return 1;
  }
  if (!grow((void**)&s->trades, &s->cap_trades, s->n_trades + 1, sizeof(BtTrade))) return 0;
  BtTrade* t = &s->trades[s->n_trades++];
  t->ticket = s->next_ticket++;
  t->buy = buy;
  t->order_type = OT_MARKET;
  t->units_ticks = ticks;
  t->units = (double)ticks / s->unit_scale;
  t->open_time = time;
  t->open_price = price;
  t->stop_loss = sl;
  t->take_profit = tp;
  s->version += 1;
  return 1;
}

static int open_pending(Sim* s, int buy, int stop, long long ticks, long long price, long long sl,
                        long long tp, long long expires, long long time) {
  if (!stops_ok(s, buy, price, &sl, &tp)) {
    s->rejected += 1;
    return 1;
  }
  if (!grow((void**)&s->orders, &s->cap_orders, s->n_orders + 1, sizeof(BtOrder))) return 0;
  BtOrder* o = &s->orders[s->n_orders++];
  o->ticket = s->next_ticket++;
  o->buy = buy;
  o->stop = stop;
  o->units_ticks = ticks;
  o->units = (double)ticks / s->unit_scale;
  o->price = price;
  o->stop_loss = sl;
  o->take_profit = tp;
  o->expires = expires;
  o->created = time;
  s->version += 1;
  return 1;
}

static int close_ticket(Sim* s, long long ticket, long long bid, long long ask, long long time) {
  long long slip = s->in->slippage;
  for (int i = 0; i < s->n_trades; ++i)
    if (s->trades[i].ticket == ticket)
      return close_trade(s, i, s->trades[i].buy ? bid - slip : ask + slip, time, R_STRATEGY);
  return 1;
}

static void cancel_ticket(Sim* s, long long ticket) {
  for (int i = 0; i < s->n_orders; ++i) {
    if (s->orders[i].ticket == ticket) {
      memmove(&s->orders[i], &s->orders[i + 1], (size_t)(s->n_orders - i - 1) * sizeof(BtOrder));
      s->n_orders -= 1;
      s->version += 1;
      return;
    }
  }
}

static void modify_ticket(Sim* s, long long ticket, long long sl, long long tp, long long bid,
                          long long ask) {
  for (int i = 0; i < s->n_trades; ++i) {
    BtTrade* t = &s->trades[i];
    if (t->ticket != ticket) continue;
    long long new_sl = sl ? sl : t->stop_loss;
    long long new_tp = tp ? tp : t->take_profit;
    if (!stops_ok(s, t->buy, t->buy ? bid : ask, &new_sl, &new_tp)) {
      s->rejected += 1;
      return;
    }
    t->stop_loss = new_sl;
    t->take_profit = new_tp;
    s->version += 1;
    return;
  }
}

/* ---- translate.py ------------------------------------------------------- */

/* Decimal(repr(x)).quantize(10**-digits, ROUND_HALF_EVEN) in points. The tie
 * (k + 0.5) points is decided against the double nearest to it: x equals that
 * double exactly when repr(x) is the tie itself. That double is (2k + 1) / (2 * 10^digits)
 * correctly rounded, which is what one IEEE division of the two (exact) integers gives while
 * both stay below 2^53; beyond that the decimal text goes through strtod. Equal to the live
 * rule while the tie text has at most 15 significant digits (k < 10^14 points; no real price
 * comes near): tests/backtests/test_backtest_price_points.py. */
long long ask_price_points(double x, int digits, double scale) {
  if (x < 0.0) return -ask_price_points(-x, digits, scale);
  long long k = (long long)floor(x * scale);
  double tie;
  if (digits <= 15 && k < (1LL << 51)) {
    tie = (double)(2 * k + 1) / (2.0 * scale);
  } else {
    char text[48];
    snprintf(text, sizeof text, "%lld5e-%d", k, digits + 1);
    tie = strtod(text, NULL);
  }
  if (x < tie) return k;
  if (x > tie) return k + 1;
  return (k % 2 == 0) ? k : k + 1;
}

long long ask_pow10ll(int n) {
  long long v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

static int signal_bit(int action, int type) {
  static const int base[3] = {SIGNAL_OPEN_BUY, SIGNAL_OPEN_BUYLIMIT, SIGNAL_OPEN_BUYSTOP};
  int bit = base[type / 2] << action;
  return (type % 2) ? bit << 16 : bit;
}

/* framework/strategy.py _decode: every row with a mask, its bits in SIGNAL_BITS order. */
static int decode(const StrategyResults* rows, int count, Signal* out, int capacity) {
  int n = 0;
  for (int r = 0; r < count; ++r) {
    int mask = (int)rows[r].tradingSignals;
    if (!mask) continue;
    for (int action = 0; action < 3; ++action)
      for (int type = 0; type < 6; ++type)
        if ((mask & signal_bit(action, type)) && n < capacity) {
          Signal* s = &out[n++];
          s->action = action;
          s->type = type;
          s->ticket = rows[r].ticketNumber;
          s->lots = rows[r].lots;
          s->entry = rows[r].entryPrice;
          s->sl = rows[r].brokerSL;
          s->tp = rows[r].brokerTP;
          s->expiration = rows[r].expirationTime;
        }
  }
  return n;
}

static int matches(const Position* p, const Signal* sg) {
  int pending = sg->type < 2 ? 0 : (sg->type < 4 ? 1 : 2);
  int buy = sg->type % 2 == 0;
  if (p->pending != pending || p->buy != buy) return 0;
  return (long long)sg->ticket == -1 || (long long)sg->ticket == p->ticket;
}

static int apply_signals(Sim* s, const Signal* signals, int n, const Position* pos, int n_pos,
                         long long bid, long long ask, long long now) {
  static const int order_of[3] = {1, 0, 2}; /* CLOSE, OPEN, UPDATE */
  const AskBtInput* in = s->in;
  double scale = s->scale;
  for (int phase = 0; phase < 3; ++phase) {
    for (int k = 0; k < n; ++k) {
      const Signal* sg = &signals[k];
      if (order_of[sg->action] != phase) continue;
      int buy = sg->type % 2 == 0;
      if (sg->action == 1) { /* close / cancel */
        for (int j = 0; j < n_pos; ++j) {
          if (!matches(&pos[j], sg)) continue;
          if (pos[j].pending) cancel_ticket(s, pos[j].ticket);
          else if (!close_ticket(s, pos[j].ticket, bid, ask, now)) return 0;
        }
      } else if (sg->action == 0) { /* open */
        long long cents = llround(sg->lots * 100.0);
        long long ticks = cents * in->contract_size_e4 / ask_pow10ll(6 - in->unit_precision);
        if (ticks < in->min_units_ticks || ticks <= 0) continue;
        int pending = sg->type >= 2;
        long long entry = pending ? ask_price_points(sg->entry, in->digits, scale) : (buy ? ask : bid);
        double entry_f = (double)entry / scale;
        double sign = buy ? 1.0 : -1.0;
        long long sl = sg->sl > 0 ? ask_price_points(entry_f - sign * sg->sl, in->digits, scale) : 0;
        long long tp = sg->tp > 0 ? ask_price_points(entry_f + sign * sg->tp, in->digits, scale) : 0;
        int ok = pending ? open_pending(s, buy, sg->type >= 4, ticks, entry, sl, tp,
                                        (long long)sg->expiration, now)
                         : open_market(s, buy, ticks, sl, tp, bid, ask, now);
        if (!ok) return 0;
      } else { /* update */
        if (sg->type >= 2) continue;
        double reference = (double)(buy ? ask : bid) / scale;
        double sign = buy ? 1.0 : -1.0;
        for (int j = 0; j < n_pos; ++j) {
          if (!matches(&pos[j], sg)) continue;
          long long sl = sg->sl > 0 ? ask_price_points(reference - sign * sg->sl, in->digits, scale) : 0;
          long long tp = sg->tp > 0 ? ask_price_points(reference + sign * sg->tp, in->digits, scale) : 0;
          if ((sl == 0 || sl == pos[j].stop_loss) && (tp == 0 || tp == pos[j].take_profit)) continue;
          modify_ticket(s, pos[j].ticket, sl, tp, bid, ask);
        }
      }
    }
  }
  return 1;
}

/* ---- the book (parity.py _book) ---------------------------------------- */

typedef struct BookItem {
  long long time, ticket;
  int kind; /* 0 trade, 1 order */
  int index;
} BookItem;

static int later(const BookItem* a, const BookItem* b) { /* sort key (time, ticket) descending */
  return a->time > b->time || (a->time == b->time && a->ticket > b->ticket);
}

static int later_time(const BookItem* a, const BookItem* b) { return a->time > b->time; }

/* Insertion sort, newest first: the book is tiny, and it is stable (ties keep their order). */
static void sort_by(BookItem* items, int n, int (*newer)(const BookItem*, const BookItem*)) {
  for (int i = 1; i < n; ++i) {
    BookItem x = items[i];
    int j = i - 1;
    while (j >= 0 && newer(&x, &items[j])) {
      items[j + 1] = items[j];
      --j;
    }
    items[j + 1] = x;
  }
}

static AskStrategyFn strategy_for(int id) {
  switch (id) {
    case ASK_STRATEGY_RECORD_BARS: return ask_strategy_record_bars;
    case ASK_STRATEGY_MA_CROSSOVER: return ask_strategy_ma_crossover;
    case ASK_STRATEGY_CHANNEL_BREAKOUT: return ask_strategy_channel_breakout;
    case ASK_STRATEGY_MEAN_REVERSION: return ask_strategy_mean_reversion;
    default: return NULL;
  }
}

typedef struct Work {
  BookItem* items;
  COrderInfo* infos;
  Position* pos;
  int* trade_of; /* per infos row: index in s->trades (an open trade) or -1 (a pending order) */
  StrategyResults* rows;
  Signal* signals; /* 18 bits per row at most */
  int cap;
  int m;           /* rows of the current book */
  int counts[6];   /* open orders per OrderType in the current book */
  unsigned version; /* Sim.version the book was built at */
  int built;
} Work;

static int work_reserve(Work* w, int need) {
  if (need <= w->cap) return 1;
  int cap = need * 2;
  BookItem* items = realloc(w->items, (size_t)cap * sizeof *items);
  if (items) w->items = items;
  COrderInfo* infos = realloc(w->infos, (size_t)cap * sizeof *infos);
  if (infos) w->infos = infos;
  Position* pos = realloc(w->pos, (size_t)cap * sizeof *pos);
  if (pos) w->pos = pos;
  int* trade_of = realloc(w->trade_of, (size_t)cap * sizeof *trade_of);
  if (trade_of) w->trade_of = trade_of;
  if (!items || !infos || !pos || !trade_of) return 0;
  w->cap = cap;
  return 1;
}

/* The book as parity.py _book and Framework._fill_orders order it; rebuilt only when the simulated
 * broker changed it (Sim.version), the open trades' profit is refreshed every bar by the caller. */
static int build_book(const Sim* s, Work* w, double instance_id) {
  const AskBtInput* in = s->in;
  double scale = s->scale;
  /* trades then orders, each newest first; then stable by open time (framework sort) */
  int n_items = s->n_trades + s->n_orders;
  if (!work_reserve(w, n_items + 1)) return 0;
  int m = 0;
  for (int t = 0; t < s->n_trades; ++t)
    w->items[m++] = (BookItem){s->trades[t].open_time, s->trades[t].ticket, 0, t};
  sort_by(w->items, m, later);
  int first_order = m;
  for (int o = 0; o < s->n_orders; ++o)
    w->items[m++] = (BookItem){s->orders[o].created, s->orders[o].ticket, 1, o};
  sort_by(w->items + first_order, m - first_order, later);
  for (int j = 0; j < m; ++j) { /* positions in book order */
    const BookItem* it = &w->items[j];
    Position* p = &w->pos[j];
    if (it->kind == 0) {
      const BtTrade* t = &s->trades[it->index];
      *p = (Position){t->ticket, t->units_ticks, t->stop_loss, t->take_profit, t->buy, 0};
    } else {
      const BtOrder* o = &s->orders[it->index];
      *p = (Position){o->ticket, o->units_ticks, o->stop_loss, o->take_profit, o->buy, o->stop ? 2 : 1};
    }
  }
  /* Framework._fill_orders: stable sort by open time, newest first */
  sort_by(w->items, m, later_time);
  memset(w->counts, 0, sizeof w->counts);
  for (int j = 0; j < m; ++j) {
    const BookItem* it = &w->items[j];
    COrderInfo* c = &w->infos[j];
    memset(c, 0, sizeof *c);
    c->ticket = (double)it->ticket;
    c->instanceId = instance_id;
    c->isOpen = 1.0;
    if (it->kind == 0) {
      const BtTrade* t = &s->trades[it->index];
      c->type = t->buy ? BUY : SELL;
      c->openTime = (double)t->open_time;
      c->stopLoss = (double)t->stop_loss / scale;
      c->takeProfit = (double)t->take_profit / scale;
      c->openPrice = (double)t->open_price / scale;
      c->lots = t->units / in->contract_size;
      w->trade_of[j] = it->index;
    } else {
      const BtOrder* o = &s->orders[it->index];
      c->type = (o->stop ? BUYSTOP : BUYLIMIT) + (o->buy ? 0 : 1);
      c->openTime = (double)o->created;
      c->stopLoss = (double)o->stop_loss / scale;
      c->takeProfit = (double)o->take_profit / scale;
      c->expiriation = (double)o->expires;
      c->openPrice = (double)o->price / scale;
      c->lots = o->units / in->contract_size;
      w->trade_of[j] = -1;
    }
    w->counts[(int)c->type] += 1;
  }
  w->m = m;
  w->version = s->version;
  w->built = 1;
  return 1;
}

static void clear_rows(StrategyResults* rows, int count) {
  for (int r = 0; r < count; ++r) {
    memset(&rows[r], 0, sizeof rows[r]);
    rows[r].ticketNumber = ASK_ALL_ORDER_TICKETS;
  }
}

/* The strategy function at bar i's close over each slot's window, with the forming bar written after
 * the window and restored after the call. */
static int call_strategy(const AskBtInput* in, AskContext* ctx, AskStrategyFn strategy, int i,
                         double bid_f) {
  CRates saved[ASK_RATES_SLOTS];
  for (int k2 = 0; k2 < in->slot_count; ++k2) {
    const AskBtSlot* sl = &in->slots[k2];
    int end = sl->closed_end[i];
    double price = sl->same_instrument ? bid_f : sl->bars[end - 1].close;
    ctx->slots[k2].bars = sl->bars + (end - sl->window);
    saved[k2] = sl->bars[end];
    sl->bars[end] = (CRates){price, price, price, price, 0.0, (int)sl->close_time[end - 1]};
  }
  int rc = strategy(ctx);
  for (int k2 = in->slot_count - 1; k2 >= 0; --k2) {
    const AskBtSlot* sl = &in->slots[k2];
    sl->bars[sl->closed_end[i]] = saved[k2];
  }
  return rc;
}

/* on_bar has work only with pending orders or trades that carry a stop or a target; recomputed when the
 * book changes (Sim.version). */
typedef struct Guard {
  unsigned version;
  int on;
} Guard;

static inline int bar_rules(Sim* s, Guard* g, int i) {
  if (g->version != s->version) {
    g->version = s->version;
    g->on = s->n_orders > 0;
    for (int t = 0; t < s->n_trades; ++t) g->on |= s->trades[t].stop_loss || s->trades[t].take_profit;
  }
  return !g->on || on_bar(s, i);
}

/* Bars [i, stop) at which the strategy writes nothing (its kernel said so): the broker's bar rules, the
 * equity, the stop-out, the end of the test and the curves, in a loop with nothing else in it. Returns
 * SUCCESS, INSUFFICIENT_MEMORY, or ASK_BT_STOPPED after a stop-out (the run ends there). */
#define ASK_BT_STOPPED (-1)

/* The common stretch: no bar rules to apply (no pending order, no stop or target), so the book stays as it
 * is until a stop-out or the last bar; locals and restrict pointers keep the loop in registers. The equity is
 * unrealized()'s sum, term for term. Returns the first bar it did not finish (a stop-out, the last bar). */
static int steady_bars(const Sim* s, double* restrict balance_out, double* restrict equity_out,
                       unsigned char* restrict in_market_out, int k, int i, int stop) {
  const AskBtInput* in = s->in;
  const long long* restrict close = in->close;
  const long long* restrict spread = in->spread;
  const double balance = s->balance, scale = s->scale;
  const int n = s->n_trades, last = in->last, inverse = in->rate_mode == 1;
  const double fixed = in->fixed_rate;
  if (stop > last) stop = last; /* the last bar closes everything: the general path */
  if (n == 0) {
    for (; i < stop; ++i, ++k) {
      balance_out[k] = balance;
      equity_out[k] = balance;
      in_market_out[k] = 0;
    }
    return i;
  }
  const BtTrade* trades = s->trades;
  for (; i < stop; ++i, ++k) {
    long long bid = close[i], ask = bid + spread[i];
    double total = 0.0;
    for (int t = 0; t < n; ++t) {
      long long price = trades[t].buy ? bid : ask;
      long long diff = trades[t].buy ? price - trades[t].open_price : trades[t].open_price - price;
      double rate = inverse ? 1.0 / ((double)price / scale) : fixed;
      total += (double)diff * trades[t].units / scale * rate;
    }
    double equity = balance + total;
    if (equity <= 0.0) break; /* the stop-out: the general path */
    balance_out[k] = balance;
    equity_out[k] = equity;
    in_market_out[k] = 1;
  }
  return i;
}

static int quiet_bars(Sim* s, AskBtOutput* out, Guard* g, int* k, int i, int stop) {
  const AskBtInput* in = s->in;
  double* balance_out = out->balance;
  double* equity_out = out->equity;
  unsigned char* in_market_out = out->in_market;
  while (i < stop) {
    if (!bar_rules(s, g, i)) return INSUFFICIENT_MEMORY;
    if (!g->on && !out->time) {
      int done = steady_bars(s, balance_out, equity_out, in_market_out, *k, i, stop);
      *k += done - i;
      out->bars_done = *k;
      i = done;
      if (i >= stop) break;
    }
    long long bid = in->close[i];
    long long ask = bid + in->spread[i];
    double equity = s->n_trades ? s->balance + unrealized(s, bid, ask) : s->balance;
    int stopped = equity <= 0.0;
    if (stopped || (i == in->last && s->n_trades > 0)) {
      if (!close_all(s, bid, ask, in->close_time[i], stopped ? R_STOP_OUT : R_END))
        return INSUFFICIENT_MEMORY;
      out->stopped_out |= stopped;
      equity = s->balance;
    }
    if (out->time) out->time[*k] = in->close_time[i];
    balance_out[*k] = s->balance;
    equity_out[*k] = equity; /* no strategy ran: the book is the one the equity was computed on */
    in_market_out[*k] = s->n_trades > 0;
    out->bars_done = ++*k;
    if (stopped) return ASK_BT_STOPPED;
    ++i;
  }
  return SUCCESS;
}

static int run_loop(Sim* s, AskBtOutput* out, AskStrategyFn strategy, AskKernel* kernel, Work* w,
                    AskContext* ctx_in) {
  const AskBtInput* in = s->in;
  const double* st = in->settings;
  double scale = s->scale;
  int mode = (int)st[OPERATIONAL_MODE];
  int max_orders = (int)st[MAX_OPEN_ORDERS];
  double max_spread = st[MAX_SPREAD];
  int compounding = st[DISABLE_COMPOUNDING] != 1.0;
  double original_equity = st[ORIGINAL_EQUITY];
  AskContext ctx = *ctx_in;
  double* balance_out = out->balance;
  double* equity_out = out->equity;
  unsigned char* in_market_out = out->in_market;
  clear_rows(w->rows, max_orders);
  int k = 0;
  Guard guard = {s->version - 1, 0};
  int i = in->first;
  while (i <= in->last) {
    /* the kernel scans ahead to the next bar at which the strategy may write a row (disabled: none) */
    int next = mode == DISABLE ? in->last + 1 : kernel ? ask_kernel_scan(kernel, i, in->last) : i;
    int rc = quiet_bars(s, out, &guard, &k, i, next);
    if (rc != SUCCESS) return rc == ASK_BT_STOPPED ? SUCCESS : rc;
    i = next;
    if (i > in->last) break;
    if (!bar_rules(s, &guard, i)) return INSUFFICIENT_MEMORY;
    long long bid = in->close[i];
    long long ask = bid + in->spread[i];
    long long now = in->close_time[i];
    double bid_f = (double)bid / scale, ask_f = (double)ask / scale;
    double equity = s->n_trades ? s->balance + unrealized(s, bid, ask) : s->balance;
    int stopped = 0, unchanged = 0;
    if (equity <= 0.0) {
      if (!close_all(s, bid, ask, now, R_STOP_OUT)) return INSUFFICIENT_MEMORY;
      stopped = 1;
      out->stopped_out = 1;
    }
    if (!stopped) {
      if (!w->built || w->version != s->version) {
        if (!build_book(s, w, st[STRATEGY_INSTANCE_ID])) return INSUFFICIENT_MEMORY;
        memcpy(ctx.open_count, w->counts, sizeof ctx.open_count);
      }
      int m = w->m;
      if (!kernel) { /* the kernels read no order's profit */
        for (int j = 0; j < m; ++j) {
          int t_index = w->trade_of[j];
          if (t_index < 0) continue;
          const BtTrade* t = &s->trades[t_index];
          w->infos[j].profit = pl_of(s, t->buy, t->units, t->open_price, t->buy ? bid : ask);
        }
      }
      ctx.orders = w->infos;
      ctx.order_count = m;
      ctx.bid = bid_f;
      ctx.ask = ask_f;
      ctx.quote_conversion = rate_at(s, bid);
      ctx.equity = compounding ? equity : original_equity;
      ctx.current_time = (int)now;
      ctx.rows_used = 0;
      int spread_ok = max_spread == 0.0 || ask_f - bid_f <= max_spread + 1e-12;
      ctx.entry_block = mode != ENABLE ? ASK_DROP_MONITOR : !spread_ok ? ASK_DROP_SPREAD : 0;
      ctx.drop_count = 0;
      unsigned version = s->version;
      rc = kernel ? ask_kernel_step(kernel, &ctx) : call_strategy(in, &ctx, strategy, i, bid_f);
      if (rc != SUCCESS) return rc;
      out->dropped += ctx.drop_count;
      if (ctx.rows_used > 0) {
        /* the emits counted their orders into ctx.open_count: back to the book's counts */
        memcpy(ctx.open_count, w->counts, sizeof ctx.open_count);
        int n_signals = decode(w->rows, max_orders, w->signals, max_orders * 18);
        /* apply_signals reads the positions of this book; it changes the broker (version). */
        if (n_signals && !apply_signals(s, w->signals, n_signals, w->pos, m, bid, ask, now))
          return INSUFFICIENT_MEMORY;
        clear_rows(w->rows, ctx.rows_used);
      }
      unchanged = s->version == version;
    }
    if (i == in->last && s->n_trades > 0 && !close_all(s, bid, ask, now, R_END))
      return INSUFFICIENT_MEMORY;
    if (out->time) out->time[k] = now; /* optional: it is close_time[first..] */
    balance_out[k] = s->balance;
    /* The book and the balance change only with the version: then the equity of the bar's start
     * is still the equity at its close (same trades, same prices, same sum). */
    if (!s->n_trades) equity_out[k] = s->balance;
    else equity_out[k] = unchanged ? equity : s->balance + unrealized(s, bid, ask);
    in_market_out[k] = s->n_trades > 0;
    out->bars_done = ++k;
    if (stopped) break;
    ++i;
  }
  return SUCCESS;
}

/* The AskContext fields that do not change between bars, set once; the loop writes the rest. */
static void context_init(AskContext* ctx, const AskBtInput* in, Work* w, double scale) {
  const double* st = in->settings;
  memset(ctx, 0, sizeof *ctx);
  ctx->settings = st;
  ctx->instance_id = (int)st[STRATEGY_INSTANCE_ID];
  ctx->strategy_id = (int)st[INTERNAL_STRATEGY_ID];
  ctx->timeframe = (int)st[TIMEFRAME];
  ctx->operational_mode = (int)st[OPERATIONAL_MODE];
  ctx->max_open_orders = (int)st[MAX_OPEN_ORDERS];
  ctx->contract_size = in->contract_size;
  ctx->minimum_stop = (double)in->min_stop / scale;
  ctx->results = w->rows;
  ctx->result_rows = ctx->max_open_orders;
  for (int k2 = 0; k2 < in->slot_count; ++k2) {
    const AskBtSlot* sl = &in->slots[k2];
    AskRatesView* v = &ctx->slots[k2];
    v->count = sl->window + 1;
    v->enabled = 1;
    v->timeframe = sl->timeframe;
    v->point = sl->point;
    v->digits = sl->digits;
    v->bars = sl->bars;
  }
}

static int backtest_run(const AskBtInput* in, AskBtOutput* out, int options) {
  if (!in || !out || !out->balance || !out->equity || !out->in_market) return NULL_POINTER;
  out->trades = NULL;
  out->trade_count = out->bars_done = out->rejected = out->stopped_out = out->dropped = 0;
  if (in->slot_count < 1 || in->slot_count > ASK_RATES_SLOTS || in->first < 0 ||
      in->last >= in->n_bars || in->first > in->last || in->unit_precision < 0 ||
      in->unit_precision > 6 || !(in->contract_size > 0.0))
    return INVALID_PARAMETER;
  int max_orders = (int)in->settings[MAX_OPEN_ORDERS];
  if (max_orders < 1 || max_orders > ASK_MAX_OPEN_ORDERS_CAP) return INVALID_PARAMETER;
  AskStrategyFn strategy = strategy_for((int)in->settings[INTERNAL_STRATEGY_ID]);
  if (!strategy) return INVALID_STRATEGY;
  for (int k = 0; k < in->slot_count; ++k) {
    const AskBtSlot* sl = &in->slots[k];
    if (!sl->bars || !sl->closed_end || !sl->close_time || sl->window < 1) return NULL_POINTER;
    /* every window inside the series: the least and the largest end, in one pass without branches */
    int lo = sl->closed_end[in->first], hi = lo;
    for (int i = in->first + 1; i <= in->last; ++i) {
      int e = sl->closed_end[i];
      lo = e < lo ? e : lo;
      hi = e > hi ? e : hi;
    }
    if (lo < sl->window || hi > sl->count) return NOT_ENOUGH_RATES_DATA;
  }
  Sim s;
  memset(&s, 0, sizeof s);
  s.in = in;
  s.scale = (double)ask_pow10ll(in->digits);
  s.unit_scale = (double)ask_pow10ll(in->unit_precision);
  s.balance = in->initial_balance;
  s.next_ticket = 1;
  Work w;
  memset(&w, 0, sizeof w);
  w.rows = calloc((size_t)max_orders, sizeof *w.rows);
  w.signals = calloc((size_t)max_orders * 18, sizeof *w.signals);
  int rc = w.rows && w.signals ? SUCCESS : INSUFFICIENT_MEMORY;
  AskContext ctx;
  AskKernel* kernel = NULL;
  if (rc == SUCCESS) {
    context_init(&ctx, in, &w, s.scale);
    int oom = 0;
    if (ctx.operational_mode != DISABLE && !(options & ASK_BT_WINDOW_CALLS))
      kernel = ask_kernel_new(&ctx, in, &oom);
    if (oom) rc = INSUFFICIENT_MEMORY;
  }
  if (rc == SUCCESS) rc = run_loop(&s, out, strategy, kernel, &w, &ctx);
  ask_kernel_free(kernel);
  free(w.items);
  free(w.infos);
  free(w.pos);
  free(w.trade_of);
  free(w.rows);
  free(w.signals);
  free(s.trades);
  free(s.orders);
  out->trades = s.closed;
  out->trade_count = s.n_closed;
  out->rejected = s.rejected;
  return rc;
}

ASK_EXPORT int ASK_API asirikuy_backtest_run(const AskBtInput* in, AskBtOutput* out) {
  return backtest_run(in, out, 0);
}

ASK_EXPORT int ASK_API asirikuy_backtest_run_options(const AskBtInput* in, AskBtOutput* out,
                                                     int options) {
  if (options & ~ASK_BT_WINDOW_CALLS) return INVALID_PARAMETER;
  return backtest_run(in, out, options);
}

ASK_EXPORT void ASK_API asirikuy_backtest_free(AskBtTrade* trades) { free(trades); }
