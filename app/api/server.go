// Package api is Pecan's HTTP layer: it parses requests, checks tokens,
// scopes and rate limits, calls the processors, and renders the pnut
// envelope. It holds no rules of its own.
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/crosspost"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/graph"
	"github.com/pecan-social/pecan/app/kv"
	"github.com/pecan-social/pecan/app/oauth"
	"github.com/pecan-social/pecan/app/posts"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/app/users"
	"github.com/pecan-social/pecan/app/web"
	"github.com/pecan-social/pecan/app/webhooks"
	"github.com/pecan-social/pecan/federation"
	"github.com/pecan-social/pecan/streams"
)

// Checker is something /readyz asks before saying the server can serve.
type Checker interface {
	Ping(ctx context.Context) error
}

// Deps is what the HTTP layer needs from the composition root.
type Deps struct {
	Config   *config.Config
	Logger   *slog.Logger
	Users    *users.Processor
	Tokens   *tokens.Processor
	Posts    *posts.Processor
	Graph    *graph.Processor
	Webhooks *webhooks.Processor
	OAuth    *oauth.Processor
	Fed      *federation.Service // nil: no ActivityPub routes
	Streams  *streams.Store
	Markers  *streams.Markers
	Limiter  kv.RateLimiter
	Checks   map[string]Checker // name → dependency, for /readyz
	Registry *prometheus.Registry
	Version  string

	// Crosspost serves crosspost targets and the deliveries of posts.
	Crosspost *crosspost.Processor
}

type server struct {
	cfg         *config.Config
	logger      *slog.Logger
	users       *users.Processor
	tokens      *tokens.Processor
	posts       *posts.Processor
	graph       *graph.Processor
	webhooks    *webhooks.Processor
	crosspost   *crosspost.Processor
	oauth       *oauth.Processor
	fed         *federation.Service
	streams     *streams.Store
	markers     *streams.Markers
	limiter     kv.RateLimiter
	checks      map[string]Checker
	version     string
	rateClasses map[string]rateClass
	// federationRoutes are the ActivityPub and discovery routes, and
	// pageRoutes the web pages, which the API middleware leaves alone.
	federationRoutes map[string]bool
	pageRoutes       map[string]bool
	// pages answer browsers, also at the ActivityPub ids of users and posts.
	pages               *web.Pages
	actorPage, notePage echo.HandlerFunc
}

// New builds the echo instance with every middleware and route.
func New(d Deps) *echo.Echo {
	s := &server{
		cfg: d.Config, logger: d.Logger, users: d.Users, tokens: d.Tokens, posts: d.Posts, graph: d.Graph, webhooks: d.Webhooks,
		oauth: d.OAuth, fed: d.Fed, crosspost: d.Crosspost, streams: d.Streams, markers: d.Markers,
		limiter: d.Limiter, checks: d.Checks, version: d.Version,
		rateClasses: map[string]rateClass{}, federationRoutes: map[string]bool{}, pageRoutes: map[string]bool{},
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Logger)
	e.IPExtractor = ipExtractor(d.Config.HTTP.TrustedProxies)
	e.Server.ReadHeaderTimeout = 10 * time.Second

	e.Use(middleware.RequestID())
	e.Use(s.recoverPanics)
	e.Use(s.logRequests)
	e.Use(metricsMiddleware(d.Registry))
	e.Use(limitInFlight(d.Config.HTTP.MaxInFlight, d.Config.HTTP.MaxWaiting))
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echoprometheus.NewHandlerWithConfig(echoprometheus.HandlerConfig{Gatherer: d.Registry}))
	if s.fed != nil {
		s.registerFederation(e)
	}
	s.registerPages(e)

	// The API middleware is global, not per group, so unknown paths and
	// wrong methods are rate limited and answered in the pnut shape too.
	for _, mw := range s.apiMiddleware() {
		e.Use(s.skipOwnRules(mw))
	}
	for _, prefix := range []string{"/v1", "/v0"} {
		s.register(e.Group(prefix))
	}
	s.registerOAuth(e)
	return e
}

// skipOwnRules keeps routes with rules of their own out of the API's auth,
// limits and body rules: health checks and metrics scrapes must never be
// rate limited, and ActivityPub routes speak their own media types and
// authenticate with HTTP Signatures, not tokens.
func (s *server) skipOwnRules(mw echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		wrapped := mw(next)
		return func(c echo.Context) error {
			switch c.Path() {
			case "/healthz", "/readyz", "/metrics":
				return next(c)
			}
			if s.federationRoutes[c.Path()] || s.pageRoutes[c.Path()] {
				return next(c)
			}
			return wrapped(c)
		}
	}
}

func (s *server) apiMiddleware() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  s.cfg.HTTP.CORSOrigins,
			AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, "X-Pretty-Json", "Idempotency-Key"},
			ExposeHeaders: []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "X-OAuth-Scopes", echo.HeaderXRequestID},
		}),
		// The limiter needs to know who is calling to pick the bucket, and
		// every refusal after it (bad token, 413, 415) then counts against
		// that bucket and carries the X-RateLimit-* headers.
		s.authenticate,
		s.rateLimit,
		refuseFailedAuth,
		// echo reads a bare number as bytes.
		middleware.BodyLimit(strconv.FormatInt(int64(s.cfg.HTTP.BodyLimit), 10)),
		requireKnownContentType,
	}
}

// ipExtractor never trusts forwarding headers unless the operator named the
// proxies that set them; otherwise any client could pick its own rate-limit
// bucket by sending X-Forwarded-For.
func ipExtractor(trusted []string) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, entry := range trusted {
		if _, network, err := net.ParseCIDR(entry); err == nil {
			opts = append(opts, echo.TrustIPRange(network))
		} else if ip := net.ParseIP(entry); ip != nil {
			opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: ip, Mask: net.CIDRMask(len(ip)*8, len(ip)*8)}))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func metricsMiddleware(reg *prometheus.Registry) echo.MiddlewareFunc {
	return echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
		Namespace:                 "pecan",
		Subsystem:                 "http",
		Registerer:                reg,
		DoNotUseRequestPathFor404: true,
		// Every label value must come from a small fixed set, or a client
		// could mint time series at will: echoprometheus copies the Host
		// header and the method verbatim. Host is pinned empty (Prometheus
		// treats an empty label as absent); url is the route pattern.
		LabelFuncs: map[string]echoprometheus.LabelValueFunc{
			"host":   func(echo.Context, error) string { return "" },
			"method": func(c echo.Context, _ error) string { return metricMethod(c.Request().Method) },
		},
		StatusCodeResolver: func(c echo.Context, err error) int {
			if err == nil {
				return c.Response().Status
			}
			return metaFor(err).Code
		},
	})
}

// knownMethods are the methods that get their own metric label value.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// metricMethod folds methods no route uses into one label value.
func metricMethod(method string) string {
	if knownMethods[method] {
		return method
	}
	return "other"
}

// recoverPanics turns a panic into a 500 with an error_id, logged with the
// stack, instead of a dropped connection.
func (s *server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisablePrintStack: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.logger.ErrorContext(c.Request().Context(), "panic", "error", err.Error(), "stack", string(stack))
			return &errs.Error{Status: http.StatusInternalServerError, Code: "internal_error", Message: "panic", Err: err}
		},
	})(next)
}

func (s *server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status = metaFor(err).Code
		}
		s.logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path),
			slog.Int("status", status),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("remote_ip", c.RealIP()))
		return err
	}
}
