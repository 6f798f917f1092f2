package kv

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// LogRedisTo sends go-redis's own messages (failed dials, pool trouble) to
// logger at warn level. By default go-redis prints them as plain text on
// stderr, between Pecan's JSON lines where log collectors cannot parse
// them. They are warnings, not errors: the failure that matters reaches
// Pecan as an error from the call and is logged or answered there.
// go-redis has one logger per process, so the last call wins.
func LogRedisTo(logger *slog.Logger) {
	redis.SetLogger(redisLogger{logger: logger})
}

type redisLogger struct{ logger *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	l.logger.WarnContext(ctx, "redis client", "detail", strings.TrimPrefix(msg, "redis: "))
}
