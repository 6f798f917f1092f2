// Package app is Pecan's composition root: it turns a config into a running
// server by opening the stores, building the processors and the HTTP layer.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pecan-social/pecan/app/api"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/crosspost"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/delivery"
	"github.com/pecan-social/pecan/app/events"
	"github.com/pecan-social/pecan/app/graph"
	"github.com/pecan-social/pecan/app/kv"
	"github.com/pecan-social/pecan/app/oauth"
	"github.com/pecan-social/pecan/app/posts"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/app/users"
	"github.com/pecan-social/pecan/app/webhooks"
	"github.com/pecan-social/pecan/federation"
	"github.com/pecan-social/pecan/streams"
)

// Options are the knobs that are not configuration: they differ between
// the binary and the tests, not between installations.
type Options struct {
	Migrate    bool             // apply pending migrations on open
	Now        func() time.Time // clock; nil means time.Now
	BcryptCost int              // 0 means bcrypt's default
	Version    string
	LogOutput  io.Writer // nil means stderr
	// NoDeliveryWorkers leaves the delivery queue to be worked by hand
	// (App.Delivery.Work), for tests that step through retries.
	NoDeliveryWorkers bool
	// KeyGen makes each new account's key pair; nil means a fresh RSA 2048
	// key each time. Tests hand out keys from a small pool.
	KeyGen func() (privatePEM, publicPEM string, err error)
}

// App is one Pecan instance.
type App struct {
	Config   *config.Config
	Logger   *slog.Logger
	DB       *database.DB
	KV       kv.Backend
	Users    *users.Processor
	Tokens   *tokens.Processor
	Posts    *posts.Processor
	Graph    *graph.Processor
	Webhooks *webhooks.Processor
	OAuth    *oauth.Processor
	Fed      *federation.Service
	Delivery *delivery.Pool
	HTTP     *echo.Echo
	opts     Options

	// Crosspost carries posts to their authors' accounts elsewhere.
	Crosspost *crosspost.Processor
}

// New opens the stores named by cfg and wires everything together.
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := NewLogger(cfg.Log, opts.LogOutput)
	kv.LogRedisTo(logger)
	db, err := OpenDatabase(ctx, cfg, opts.Migrate, logger)
	if err != nil {
		return nil, err
	}
	store, err := openKV(cfg, opts.Now)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if opts.KeyGen == nil {
		opts.KeyGen = federation.GenerateKey
	}
	registry := newRegistry()
	a := &App{Config: cfg, Logger: logger, DB: db, KV: store, opts: opts}
	client := newClient(cfg, opts)
	signers := map[string]delivery.Signer{webhooks.SignerName: webhooks.NewSigner(db, opts.Now)}
	a.Delivery = newDeliveryPool(cfg, db, client, signers, opts, logger, registry)
	db.OnDeliveriesQueued(a.Delivery.Notify)
	policy := delivery.AddressPolicy{AllowPrivate: cfg.Delivery.AllowPrivateAddresses}
	a.Webhooks = webhooks.New(db, policy, net.DefaultResolver, opts.Now, cfg.PublicURL())
	site := convert.Site{Base: cfg.PublicURL()}
	a.Fed = federation.New(federation.Options{
		Site: site, Scheme: cfg.Scheme, DB: db, Client: client, Now: opts.Now, Logger: logger,
	})
	signers[federation.SignerName] = a.Fed
	a.Crosspost = crosspost.New(crosspost.Options{
		DB: db, Client: client, Policy: policy, Resolver: net.DefaultResolver, Fed: a.Fed, Webhooks: a.Webhooks,
		Key: cfg.Crosspost.Key(), Host: cfg.Host, Now: opts.Now,
	})
	signers[crosspost.SignerName] = a.Crosspost
	sinks := events.Sinks{a.Webhooks, a.Fed, a.Crosspost}
	a.Users = users.New(db, opts.Now, opts.BcryptCost, opts.KeyGen)
	a.Users.SetResolver(a.Fed)
	a.Tokens = tokens.New(db, opts.Now)
	a.Tokens.CacheFor(cfg.HTTP.TokenCacheTTL)
	a.Users.OnProfileChange(a.Tokens.Forget)
	a.OAuth = newOAuth(cfg, a, store, opts.Now)
	a.Posts = posts.New(db, store, sinks, opts.Now, posts.DefaultRules)
	a.Graph = graph.New(db, sinks, opts.Now, site.Follow)
	a.Graph.CacheRelationsFor(cfg.HTTP.RelationCacheTTL)
	// With Redis, what one replica forgets every replica forgets.
	if notices, ok := store.(kv.Notices); ok {
		a.Tokens.ShareForgetting(notices, logger)
		a.Graph.ShareForgetting(notices, logger)
	}
	a.Posts.SetResolver(a.Fed)
	a.Posts.SetCrossposter(a.Crosspost)
	a.Fed.Use(a.Posts, a.Graph)
	a.HTTP = api.New(api.Deps{
		Config: cfg, Logger: logger, Users: a.Users, Tokens: a.Tokens, Posts: a.Posts, Graph: a.Graph, Webhooks: a.Webhooks, OAuth: a.OAuth, Fed: a.Fed,
		Streams: streams.New(db.Bun), Markers: streams.NewMarkers(markerStore(db, store), opts.Now), Limiter: store,
		Checks:   map[string]api.Checker{"database": db, "kv": store},
		Registry: registry, Version: opts.Version, Crosspost: a.Crosspost,
	})
	return a, nil
}

func newOAuth(cfg *config.Config, a *App, store kv.Backend, now func() time.Time) *oauth.Processor {
	limits := cfg.RateLimits
	return oauth.New(a.DB, a.Users, a.Tokens, store, store, now, oauth.Settings{
		CodeTTL: cfg.OAuth.CodeTTL, SessionTTL: cfg.OAuth.SessionTTL,
		SignInPerAccount: kv.Limit{Count: limits.SignInPerAccount.Count, Period: limits.SignInPerAccount.Period},
		SignInPerIP:      kv.Limit{Count: limits.SignInPerIP.Count, Period: limits.SignInPerIP.Period},
	})
}

// newClient is the one HTTP client of every outbound request.
func newClient(cfg *config.Config, opts Options) *http.Client {
	return delivery.NewClient(delivery.ClientOptions{
		Policy:    delivery.AddressPolicy{AllowPrivate: cfg.Delivery.AllowPrivateAddresses},
		UserAgent: fmt.Sprintf("Pecan/%s (+%s)", opts.Version, cfg.PublicURL()),
	})
}

// newDeliveryPool builds the outbound queue's workers.
func newDeliveryPool(cfg *config.Config, db *database.DB, client *http.Client, signers map[string]delivery.Signer, opts Options, logger *slog.Logger, reg prometheus.Registerer) *delivery.Pool {
	settings := delivery.Settings{
		Workers: cfg.Delivery.Workers, PerHost: cfg.Delivery.PerHost, PollInterval: cfg.Delivery.PollInterval,
		Backoff:   delivery.Backoff{Base: cfg.Delivery.BackoffBase, Max: cfg.Delivery.BackoffMax},
		Retention: cfg.Delivery.Retention,
	}
	return delivery.NewPool(db, client, signers, settings, opts.Now, logger, reg)
}

// OpenDatabase connects to the configured database and, if asked, applies
// pending migrations. The command line uses it without the rest of the app.
func OpenDatabase(ctx context.Context, cfg *config.Config, migrate bool, logger *slog.Logger) (*database.DB, error) {
	db, err := database.Open(cfg.Database.URL, cfg.Database.MaxOpenConns)
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("database.url: cannot reach the database: %w", err)
	}
	if migrate {
		applied, err := db.MigrateUp(ctx)
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		if len(applied) > 0 {
			logger.Info("migrations applied", "migrations", applied)
		}
	}
	return db, nil
}

func openKV(cfg *config.Config, now func() time.Time) (kv.Backend, error) {
	if cfg.Redis.URL == "" {
		m := kv.NewMemory()
		m.SetClock(now) // windows and limits follow the app's clock, which tests move
		return m, nil
	}
	store, err := kv.OpenRedis(cfg.Redis.URL, cfg.Redis.Prefix)
	if err != nil {
		return nil, fmt.Errorf("redis.url: %w", err)
	}
	return store, nil
}

// markerStore keeps markers in Redis when there is one, so every replica
// shares them, and in the database otherwise, so they survive restarts.
func markerStore(db *database.DB, store kv.Backend) streams.MarkerStore {
	if r, ok := store.(*kv.Redis); ok {
		return streams.NewRedisMarkers(r.Client(), r.Prefix())
	}
	return streams.NewSQLMarkers(db.Bun)
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// NewLogger builds the JSON (or text) logger the config asks for.
func NewLogger(cfg config.LogConfig, out io.Writer) *slog.Logger {
	if out == nil {
		out = os.Stderr
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.Level)))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(out, opts))
	}
	return slog.New(slog.NewJSONHandler(out, opts))
}

// Serve answers HTTP on ln and works the delivery queue until ctx ends,
// then drains requests in flight for up to http.shutdown_timeout and lets
// each delivery worker finish the delivery in its hands.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	workerCtx, stopWorkers := context.WithCancel(ctx)
	workers := make(chan struct{})
	go func() {
		defer close(workers)
		if !a.opts.NoDeliveryWorkers {
			a.Delivery.Run(workerCtx)
		}
	}()
	// Requests still being answered during shutdown use the token and
	// relation caches, so other replicas' changes are listened for until
	// they are done.
	listenCtx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	var listening sync.WaitGroup
	listening.Go(func() { a.Tokens.ListenForForgets(listenCtx) })
	listening.Go(func() { a.Graph.ListenForForgets(listenCtx) })
	defer func() {
		stopListening()
		listening.Wait()
	}()
	defer func() {
		stopWorkers()
		<-workers
		a.Logger.Info("delivery workers stopped")
	}()
	srv := &http.Server{
		Handler:           a.HTTP,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       a.Config.HTTP.ReadTimeout,
		WriteTimeout:      a.Config.HTTP.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if stopAdmin, err := a.serveAdmin(); err != nil {
		return err
	} else if stopAdmin != nil {
		defer stopAdmin()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down", "timeout", a.Config.HTTP.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.Config.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.Logger.Info("stopped serving: requests drained")
	return nil
}

// serveAdmin starts the profiler listener when admin.listen is set, and
// returns what stops it.
func (a *App) serveAdmin() (func(), error) {
	if a.Config.Admin.Listen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", a.Config.Admin.Listen)
	if err != nil {
		return nil, fmt.Errorf("admin.listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	a.Logger.Info("profiler listening", "admin_listen", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// Close releases the stores.
func (a *App) Close() error {
	return errors.Join(a.KV.Close(), a.DB.Close())
}
