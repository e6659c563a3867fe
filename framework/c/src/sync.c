/* sync.c - one process-wide lock, portable between POSIX and Windows. */
#include "ask_internal.h"

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

static SRWLOCK g_lock = SRWLOCK_INIT;

void ask_lock(void) { AcquireSRWLockExclusive(&g_lock); }
void ask_unlock(void) { ReleaseSRWLockExclusive(&g_lock); }

#else
#include <pthread.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void ask_lock(void) { (void)pthread_mutex_lock(&g_lock); }
void ask_unlock(void) { (void)pthread_mutex_unlock(&g_lock); }

#endif
