package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"google.golang.org/grpc/grpclog"

	"github.com/gokernels/gokernels/server/config"
)

// NewLogger returns the process logger: JSON in production, text otherwise.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// RouteLibraryLogs sends what libraries log on their own — gRPC and the
// gateway (grpclog), OpenTelemetry, and anything using the standard log
// package — through l, so every line the process writes has the configured
// format (JSON in production) instead of a plain-text "ERROR: …" on
// stderr. Call it once, before serving.
func RouteLibraryLogs(l *slog.Logger) {
	grpclog.SetLoggerV2(grpcLogger{l})
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		l.Warn("opentelemetry", "error", err)
	}))
	slog.SetDefault(l) // the standard log package now writes through l
}

// grpcLogger is grpclog.LoggerV2 over slog. gRPC's info lines are
// transport chatter: they go to debug.
type grpcLogger struct{ l *slog.Logger }

func (g grpcLogger) log(level slog.Level, msg string) {
	g.l.Log(context.Background(), level, msg, "component", "grpc")
}

func (g grpcLogger) Info(args ...any)   { g.log(slog.LevelDebug, fmt.Sprint(args...)) }
func (g grpcLogger) Infoln(args ...any) { g.log(slog.LevelDebug, sprintln(args...)) }
func (g grpcLogger) Infof(format string, args ...any) {
	g.log(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (g grpcLogger) Warning(args ...any)   { g.log(slog.LevelWarn, fmt.Sprint(args...)) }
func (g grpcLogger) Warningln(args ...any) { g.log(slog.LevelWarn, sprintln(args...)) }
func (g grpcLogger) Warningf(format string, args ...any) {
	g.log(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (g grpcLogger) Error(args ...any)   { g.log(slog.LevelError, fmt.Sprint(args...)) }
func (g grpcLogger) Errorln(args ...any) { g.log(slog.LevelError, sprintln(args...)) }
func (g grpcLogger) Errorf(format string, args ...any) {
	g.log(slog.LevelError, fmt.Sprintf(format, args...))
}
func (g grpcLogger) Fatal(args ...any)   { g.log(slog.LevelError, fmt.Sprint(args...)); os.Exit(1) }
func (g grpcLogger) Fatalln(args ...any) { g.log(slog.LevelError, sprintln(args...)); os.Exit(1) }
func (g grpcLogger) Fatalf(format string, args ...any) {
	g.log(slog.LevelError, fmt.Sprintf(format, args...))
	os.Exit(1)
}

// V reports whether verbose logging at level v is on: never (verbosity 0).
func (g grpcLogger) V(v int) bool { return v <= 0 }

func sprintln(args ...any) string { return strings.TrimSuffix(fmt.Sprintln(args...), "\n") }
