/*
 * timezone.c - broker time-zone table.
 *
 * Known broker names (exact, case-sensitive, like rows of broker-tz.csv):
 *   "UTC", "GMT"          offset 0, no DST
 *   "OANDA Corporation"   New York time: UTC-5, UTC-4 from the 2nd Sunday of
 *                         March 02:00 to the 1st Sunday of November 02:00
 * Any other name gives UNKNOWN_TIMEZONE. No file is read.
 */
#include <string.h>

#include "ask_internal.h"

static long long floor_div(long long a, long long b) {
  long long q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

/* Days since 1970-01-01 for a proleptic Gregorian date. */
static long long days_from_civil(long long y, int m, int d) {
  y -= m <= 2;
  long long era = floor_div(y, 400);
  long long yoe = y - era * 400;
  long long mp = (m + 9) % 12;
  long long doy = (153 * mp + 2) / 5 + d - 1;
  long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int year_of(long long t) {
  long long days = floor_div(t, 86400);
  /* Inverse of days_from_civil, year only. */
  long long z = days + 719468;
  long long era = floor_div(z, 146097);
  long long doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long y = yoe + era * 400;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153;
  int m = (int)(mp < 10 ? mp + 3 : mp - 9);
  return (int)(y + (m <= 2));
}

/* Day (as days since epoch) of the nth Sunday of month m in year y. */
static long long nth_sunday(int y, int m, int n) {
  long long first = days_from_civil(y, m, 1);
  /* 1970-01-01 was a Thursday; weekday 0 = Sunday. */
  int weekday = (int)((first % 7 + 7 + 4) % 7);
  int offset = (7 - weekday) % 7;
  return first + offset + 7 * (n - 1);
}

static long long new_york_offset(long long local_t) {
  int y = year_of(local_t);
  long long start = nth_sunday(y, 3, 2) * 86400 + 2 * 3600;
  long long end = nth_sunday(y, 11, 1) * 86400 + 2 * 3600;
  return (local_t >= start && local_t < end) ? -4 * 3600 : -5 * 3600;
}

int ask_broker_utc_offset(const char* name, long long t, long long* offset) {
  if (strcmp(name, "UTC") == 0 || strcmp(name, "GMT") == 0) {
    *offset = 0;
    return 0;
  }
  if (strcmp(name, "OANDA Corporation") == 0) {
    *offset = new_york_offset(t);
    return 0;
  }
  return -1;
}
