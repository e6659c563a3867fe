/*
 * A second, independent implementation of the Asirikuy Framework ABI, written for the tests of Asirikuy
 * Trader only. It is not our strategy library: it implements strategy ids our catalog does not know,
 * behaves like the legacy library where the research notes say the legacy library is awkward, and RECORDS
 * every call it runs, so the tests can compare byte for byte what the platform passed.
 *
 * Like the legacy library it:
 *   - reads the XML config on its first initInstanceC (TempFileFolderPath, Logging/Folder, ConfigPaths) and
 *     fails when a folder is missing; reads broker-tz.csv, whose time fields must be HH:MM;
 *   - loads <temp>/<id>.state on a live init (isTesting = 0) and resets it on a test init;
 *   - leaves the result rows alone when disabled, for an unknown strategy and on the same bar again;
 *   - returns 0 for an instance never initialised, and prints "1" to stdout on every call it runs;
 *   - demands ratesArraySize >= (int)(totalBarsRequired * 1.2 * required / actual) per enabled slot;
 *   - does not check that the slots its strategy reads exist (a missing one is a NULL read);
 *   - keeps the last bar it saw per instance: a history with a gap gets ERROR_IN_RATES_RETRIEVAL (3029)
 *     until the instance is initialised again;
 *   - writes <temp>/<id>.ui ("name, value" lines) and <temp>/<id>_heartBeat.hb on live calls.
 *
 * Strategies (INTERNAL_STRATEGY_ID):
 *   19  records, never trades (as RECORD_BARS never trades)
 *   29  SABI_TRENDS (AutoBBS-like): reads slots 0..5; direction from slot 0's last closed bar, stop from
 *       slot 1's last closed range, lots from setting 2
 *   7   SABI_SINGLE: reads slot 0 only; lots from setting 0
 *   666 writes through a NULL pointer (SIGSEGV); 667 abort() (SIGABRT); 668 never returns
 *
 * Record (appended to <temp>/<id>.calls, native byte order): "SABI", int32 call, strategy, current time,
 * open count (-1 for NULL), orders passed, isTesting; char symbol[16], currency[16], broker[48], ref[48];
 * double settings[64], ratesInfo[70], account[10], bidAsk[6], orders[15 * orders passed]; per enabled slot:
 * int32 slot, int32 n, then n bars of 44 bytes (open, high, low, close, volume, int32 time); int32 -1.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    MAX_OPEN_ORDERS = 45, RUN_EVERY_TICK = 43, OPERATIONAL_MODE = 50, STRATEGY_INSTANCE_ID = 51,
    INTERNAL_STRATEGY_ID = 52, ORDERINFO_ARRAY_SIZE = 63
};
enum {
    OK = 0, NULL_POINTER = 3005, INVALID_STRATEGY = 3006, NOT_ENOUGH_RATES_DATA = 3009, INIT_LOG_FAILED = 3012,
    UNKNOWN_TIMEZONE = 3019, TOO_MANY_INSTANCES = 3022, INVALID_CONFIG = 3023, MISSING_CONFIG = 3024,
    INIT_XML_FAILED = 3025, ERROR_IN_RATES_RETRIEVAL = 3029
};
enum { OPEN_BUY = 0x1, CLOSE_BUY = 0x2, OPEN_SELL = 0x10000, CLOSE_SELL = 0x20000 };

typedef struct { double open, high, low, close, volume; int time; } CRates;
typedef struct {
    double ticket, instanceId, type, openTime, closeTime, stopLoss, takeProfit, expiriation, openPrice,
        closePrice, lots, profit, commission, swap, isOpen;
} COrderInfo;
typedef struct {
    double isEnabled, requiredTimeframe, totalBarsRequired, actualTimeframe, ratesArraySize, point, digits;
} CRatesInfo;

typedef struct { int used, id, testing, calls, last_closed, last_bar; } Instance;

static struct {
    int configured;
    char temp[1024], log[1024];
    char brokers[64][64];
    int broker_count;
} g;
static Instance instances[200];

void getFrameworkVersion(int* major, int* minor, int* bugfix) {
    *major = 4;
    *minor = 9;
    *bugfix = 1;
}

static int tag(const char* xml, const char* name, char* out, size_t size) {
    char open[128], close[128];
    snprintf(open, sizeof open, "<%s>", name);
    snprintf(close, sizeof close, "</%s>", name);
    const char* start = strstr(xml, open);
    if (!start) return 0;
    start += strlen(open);
    const char* end = strstr(start, close);
    if (!end || (size_t)(end - start) >= size) return 0;
    while (start < end && (*start == ' ' || *start == '\n' || *start == '\r' || *start == '\t')) start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\t')) end--;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return 1;
}

static int is_dir(const char* path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char* slurp(const char* path) {
    FILE* f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char* text = calloc((size_t)size + 1, 1);
    if (text && fread(text, 1, (size_t)size, f) != (size_t)size) {
        free(text);
        text = NULL;
    }
    fclose(f);
    return text;
}

/* broker-tz.csv: ';'-separated quoted fields; DSTStartTime, DSTEndTime, WeekStartHour, WeekEndHour are HH:MM. */
static int read_broker_tz(const char* path) {
    char* text = slurp(path);
    if (!text) return MISSING_CONFIG;
    int line_no = 0, result = OK;
    for (char* line = strtok(text, "\n"); line && result == OK; line = strtok(NULL, "\n")) {
        if (line_no++ == 0 || line[0] == '\0' || line[0] == '\r') continue;
        char fields[15][64];
        int count = 0;
        char* cursor = line;
        while (count < 15 && cursor) {
            char* sep = strchr(cursor, ';');
            size_t len = sep ? (size_t)(sep - cursor) : strcspn(cursor, "\r");
            if (len >= 64) len = 63;
            const char* src = cursor;
            if (len && src[0] == '"') { src++; len--; }
            if (len && src[len - 1] == '"') len--;
            memcpy(fields[count], src, len);
            fields[count][len] = '\0';
            count++;
            cursor = sep ? sep + 1 : NULL;
        }
        if (count < 15 || !strchr(fields[4], ':') || !strchr(fields[8], ':') || !strchr(fields[12], ':') ||
            !strchr(fields[14], ':')) {
            result = INIT_XML_FAILED;
        } else if (g.broker_count < 64) {
            snprintf(g.brokers[g.broker_count++], 64, "%s", fields[0]);
        }
    }
    free(text);
    return result;
}

static int configure(const char* config_path, const char* account) {
    char* xml = slurp(config_path);
    if (!xml) return MISSING_CONFIG;
    char config_dir[1024], tz_name[256], tz_path[1400], log_path[1400];
    int found = tag(xml, "TempFileFolderPath", g.temp, sizeof g.temp) && tag(xml, "Folder", g.log, sizeof g.log) &&
                tag(xml, "ConfigFolderPath", config_dir, sizeof config_dir) &&
                tag(xml, "BrokerTZFilename", tz_name, sizeof tz_name);
    free(xml);
    if (!found) return INIT_XML_FAILED;
    if (!is_dir(g.temp) || !is_dir(g.log)) return INIT_LOG_FAILED;
    snprintf(tz_path, sizeof tz_path, "%s%s", config_dir, tz_name);
    g.broker_count = 0;
    int code = read_broker_tz(tz_path);
    if (code != OK) return code;
    snprintf(log_path, sizeof log_path, "%s%sAsirikuyFramework.log", g.log, account ? account : "");
    FILE* log = fopen(log_path, "a");
    if (!log) return INIT_LOG_FAILED;
    fputs("configured\n", log);
    fclose(log);
    g.configured = 1;
    return OK;
}

static Instance* find(int id) {
    for (int i = 0; i < 200; i++)
        if (instances[i].used && instances[i].id == id) return &instances[i];
    return NULL;
}

static void state_path(char* out, size_t size, int id, const char* ext) {
    snprintf(out, size, "%s%d%s", g.temp, id, ext);
}

static void save_state(const Instance* in) {
    char path[1200];
    state_path(path, sizeof path, in->id, ".state");
    FILE* f = fopen(path, "wb");
    if (!f) return;
    int values[3] = {in->id, in->calls, in->last_bar};
    fwrite("SAST", 1, 4, f);
    fwrite(values, sizeof(int), 3, f);
    fclose(f);
}

static void load_state(Instance* in) {
    char path[1200], magic[4];
    int values[3];
    state_path(path, sizeof path, in->id, ".state");
    FILE* f = fopen(path, "rb");
    if (!f) return;
    if (fread(magic, 1, 4, f) == 4 && memcmp(magic, "SAST", 4) == 0 && fread(values, sizeof(int), 3, f) == 3 &&
        values[0] == in->id)
        in->calls = values[1];
    fclose(f);
}

int initInstanceC(int instanceId, int isTesting, char* configPath, char* accountName) {
    if (!configPath) return INVALID_CONFIG;
    if (!g.configured) {
        int code = configure(configPath, accountName);
        if (code != OK) return code;
    }
    Instance* in = find(instanceId);
    if (!in) {
        for (int i = 0; i < 200 && !in; i++)
            if (!instances[i].used) in = &instances[i];
        if (!in) return TOO_MANY_INSTANCES;
    }
    memset(in, 0, sizeof *in);
    in->used = 1;
    in->id = instanceId;
    in->testing = isTesting;
    if (!isTesting) load_state(in);
    return OK;
}

void deinitInstance(int instanceId) {
    Instance* in = find(instanceId);
    if (in) in->used = 0;
}

static int known_broker(const char* name) {
    for (int i = 0; i < g.broker_count; i++)
        if (strcmp(g.brokers[i], name) == 0) return 1;
    return 0;
}

static void put_text(FILE* f, const char* text, size_t size) {
    char buffer[64] = {0};
    snprintf(buffer, size < sizeof buffer ? size : sizeof buffer, "%s", text);
    fwrite(buffer, 1, size, f);
}

static void record(const Instance* in, int strategy, const double* settings, const char* symbol, const char* currency,
                   const char* broker, const char* ref, const int* now, const int* open_count,
                   const COrderInfo* orders, const double* account, const double* bid_ask, const CRatesInfo* info,
                   CRates* const* rates) {
    char path[1200];
    state_path(path, sizeof path, in->id, ".calls");
    FILE* f = fopen(path, "ab");
    if (!f) return;
    int order_count = (int)settings[ORDERINFO_ARRAY_SIZE];
    int head[6] = {in->calls, strategy, *now, open_count ? *open_count : -1, order_count, in->testing};
    fwrite("SABI", 1, 4, f);
    fwrite(head, sizeof(int), 6, f);
    put_text(f, symbol, 16);
    put_text(f, currency, 16);
    put_text(f, broker, 48);
    put_text(f, ref, 48);
    fwrite(settings, sizeof(double), 64, f);
    fwrite(info, sizeof(CRatesInfo), 10, f);
    fwrite(account, sizeof(double), 10, f);
    fwrite(bid_ask, sizeof(double), 6, f);
    if (order_count > 0 && orders) fwrite(orders, sizeof(COrderInfo), (size_t)order_count, f);
    for (int slot = 0; slot < 10; slot++) {
        if (!info[slot].isEnabled) continue;
        int n = (int)info[slot].ratesArraySize;
        fwrite(&slot, sizeof(int), 1, f);
        fwrite(&n, sizeof(int), 1, f);
        for (int i = 0; i < n; i++) {
            fwrite(&rates[slot][i], sizeof(double), 5, f);
            fwrite(&rates[slot][i].time, sizeof(int), 1, f);
        }
    }
    int end = -1;
    fwrite(&end, sizeof(int), 1, f);
    fclose(f);
}

static void write_files(const Instance* in, int strategy, int now, double close, int buy, int slots) {
    char path[1200];
    state_path(path, sizeof path, in->id, ".ui");
    FILE* f = fopen(path, "w");
    if (f) {
        fprintf(f, "strategy, %d\ncalls, %d\nlast close, %.5f\ndirection, %s\nslots, %d\n", strategy, in->calls, close,
                buy ? "BUY" : "SELL", slots);
        fclose(f);
    }
    state_path(path, sizeof path, in->id, "_heartBeat.hb");
    f = fopen(path, "w");
    if (f) {
        time_t t = (time_t)now;
        struct tm utc;
        char text[32];
        gmtime_r(&t, &utc);
        strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &utc);
        fprintf(f, "%d\n%s\n", utc.tm_hour, text);
        fclose(f);
    }
    save_state(in);
}

int c_runStrategy(double* settings, char* symbol, char* currency, char* broker, char* ref_broker, int* now,
                  int* open_count, COrderInfo* orders, double* account, double* bid_ask, CRatesInfo* info, CRates* r0,
                  CRates* r1, CRates* r2, CRates* r3, CRates* r4, CRates* r5, CRates* r6, CRates* r7, CRates* r8,
                  CRates* r9, double* results) {
    if (!symbol || !currency || !broker || !ref_broker) return NULL_POINTER;
    if ((int)settings[OPERATIONAL_MODE] == 0) return OK;
    Instance* in = find((int)settings[STRATEGY_INSTANCE_ID]);
    if (!in) return OK;
    if (!known_broker(broker) || !known_broker(ref_broker)) return UNKNOWN_TIMEZONE;
    int strategy = (int)settings[INTERNAL_STRATEGY_ID];
    if (strategy != 19 && strategy != 29 && strategy != 7 && strategy < 666) return INVALID_STRATEGY;
    if (strategy > 668) return INVALID_STRATEGY;
    CRates* rates[10] = {r0, r1, r2, r3, r4, r5, r6, r7, r8, r9};
    int enabled = 0;
    for (int i = 0; i < 10; i++) {
        if (!info[i].isEnabled) continue;
        enabled++;
        int need = (int)(info[i].totalBarsRequired * 1.2 * info[i].requiredTimeframe / info[i].actualTimeframe);
        if ((int)info[i].ratesArraySize < need || info[i].ratesArraySize < 2) return NOT_ENOUGH_RATES_DATA;
    }
    if (strategy == 666) {
        volatile int* nowhere = NULL;
        *nowhere = 1;
    }
    if (strategy == 667) abort();
    if (strategy == 668)
        for (;;) pause();
    int n0 = (int)info[0].ratesArraySize;
    int closed = r0[n0 - 2].time;
    if (in->last_closed && in->last_closed != closed && (n0 < 3 || in->last_closed != r0[n0 - 3].time))
        return ERROR_IN_RATES_RETRIEVAL;
    if (settings[RUN_EVERY_TICK] == 0.0 && in->last_bar == r0[n0 - 1].time) return OK;
    in->last_closed = closed;
    in->last_bar = r0[n0 - 1].time;
    in->calls++;
    record(in, strategy, settings, symbol, currency, broker, ref_broker, now, open_count, orders, account, bid_ask,
           info, rates);

    int rows = (int)settings[MAX_OPEN_ORDERS];
    for (int k = 0; k < rows; k++) {
        memset(&results[k * 10], 0, 10 * sizeof(double));
        results[k * 10] = -1.0;
    }
    const CRates* last = &r0[n0 - 2];
    int buy = last->close >= last->open;
    if (strategy == 29 || strategy == 7) {
        double sl;
        double lots;
        if (strategy == 29) {
            /* reads every slot it needs, unchecked, like the legacy AutoBBS */
            int n1 = (int)info[1].ratesArraySize;
            sl = r1[n1 - 2].high - r1[n1 - 2].low;
            for (int s = 2; s <= 5; s++) sl += 0.0 * rates[s][(int)info[s].ratesArraySize - 2].close;
            lots = 0.01 * (1 + ((int)fabs(settings[2])) % 5);
        } else {
            sl = last->high - last->low;
            lots = 0.01 * (1 + ((int)fabs(settings[0])) % 3);
        }
        if (sl <= 0) sl = 10 * info[0].point;
        int want = buy ? 0 : 1, other = buy ? 1 : 0, has = 0, has_other = 0;
        int order_count = (int)settings[ORDERINFO_ARRAY_SIZE];
        for (int k = 0; orders && k < order_count; k++) {
            if (orders[k].ticket == 0 || orders[k].isOpen == 0) continue;
            if ((int)orders[k].type == want) has = 1;
            if ((int)orders[k].type == other) has_other = 1;
        }
        int row = 0;
        if (has_other && row < rows) {
            results[row * 10 + 1] = other == 0 ? CLOSE_BUY : CLOSE_SELL;
            row++;
        }
        if (!has && (int)settings[OPERATIONAL_MODE] != 2 && row < rows) {
            double* r = &results[row * 10];
            r[0] = 0;
            r[1] = want == 0 ? OPEN_BUY : OPEN_SELL;
            r[2] = lots;
            r[3] = want == 0 ? bid_ask[1] : bid_ask[0];
            r[4] = sl;
            r[5] = 2 * sl;
        }
    }
    if (!in->testing) write_files(in, strategy, *now, last->close, buy, enabled);
    fputs("1", stdout);
    fflush(stdout);
    return OK;
}
