package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// The Redis client (go-redis) logs on its own, to stderr, lines such as
// "redis: 2026/12/01 08:55:25 pool.go:770: redis: connection pool: failed
// to dial after 5 attempts: ...", while the same failure comes back as an
// error that stampsim reports. redisLog takes the client's lines instead:
// validate shows them with -v, and otherwise only says how many there were
// when it fails, so that a user sees one clear message.
type redisLog struct {
	sink atomic.Pointer[func(line string)]
}

var (
	theRedisLog     redisLog
	installRedisLog sync.Once
)

// Printf is the client's logging interface.
func (l *redisLog) Printf(_ context.Context, format string, v ...any) {
	if sink := l.sink.Load(); sink != nil {
		(*sink)(strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
	}
}

// captureRedisLog sends the client's log lines to sink until the function
// it returns is called; lines logged outside are dropped. It is for one
// command at a time: the client's logger is the process's.
func captureRedisLog(sink func(line string)) (release func()) {
	installRedisLog.Do(func() { redis.SetLogger(&theRedisLog) })
	theRedisLog.sink.Store(&sink)
	return func() { theRedisLog.sink.Store(nil) }
}
