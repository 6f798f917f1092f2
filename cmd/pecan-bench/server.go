package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// pecanServer is a `pecan serve` subprocess on a port of its own.
type pecanServer struct {
	bin     string
	env     []string
	url     string
	logPath string

	cmd    *exec.Cmd
	exited chan error
}

// buildPecan compiles ./cmd/pecan of the module the tool runs in into dir.
func buildPecan(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pecan")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/pecan")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build ./cmd/pecan: %v\n%s", err, out)
	}
	return bin, nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("find the module root: run pecan-bench inside the Pecan module, or pass --pecan-bin")
	}
	return filepath.Dir(gomod), nil
}

// freePort asks the kernel for a port nobody uses on loopback.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// serverEnv is the configuration of the server under test, as environment
// variables: rate limits off (the load would hit them at once), plain http
// and private addresses allowed so deliveries reach the local receiver.
func serverEnv(b *backend, port int, logLevel string, dbConns int) []string {
	host := "127.0.0.1:" + strconv.Itoa(port)
	env := []string{
		"PECAN_LISTEN=" + host,
		"PECAN_HOST=" + host,
		"PECAN_SCHEME=http",
		"PECAN_DATABASE_URL=" + b.DatabaseURL,
		"PECAN_DATABASE_MAX_OPEN_CONNS=" + strconv.Itoa(dbConns),
		"PECAN_RATE_LIMITS_ENABLED=false",
		"PECAN_DELIVERY_ALLOW_PRIVATE_ADDRESSES=true",
		"PECAN_LOG_LEVEL=" + logLevel,
	}
	if b.RedisURL != "" {
		env = append(env, "PECAN_REDIS_URL="+b.RedisURL, "PECAN_REDIS_PREFIX="+b.RedisPrefix)
	}
	return env
}

// baseEnv is the tool's environment without PECAN_ variables, so a stray
// setting in the shell cannot change the server under test.
func baseEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PECAN_") {
			out = append(out, kv)
		}
	}
	return out
}

// start runs the server and returns how long it took from exec to a 200
// from /readyz.
func (s *pecanServer) start(ctx context.Context) (time.Duration, error) {
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(s.bin, "serve")
	cmd.Env = append(baseEnv(), s.env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	began := time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return 0, fmt.Errorf("start %s: %w", s.bin, err)
	}
	s.cmd, s.exited = cmd, make(chan error, 1)
	go func() { s.exited <- cmd.Wait(); logFile.Close() }()
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		_ = s.stop()
		return 0, fmt.Errorf("%w\nlast server log lines:\n%s", err, tail(s.logPath, 20))
	}
	return time.Since(began), nil
}

func (s *pecanServer) pid() int { return s.cmd.Process.Pid }

var readyClient = &http.Client{Timeout: time.Second}

// waitReady polls /readyz every two milliseconds: start-up is measured to
// within that.
func (s *pecanServer) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.exited <- err
			return fmt.Errorf("pecan serve exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := readyClient.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("pecan serve not ready after %s", limit)
}

// stop sends SIGTERM and waits for the graceful shutdown, killing the
// process if it takes more than 30 seconds.
func (s *pecanServer) stop() error {
	if s.cmd == nil {
		return nil
	}
	defer func() { s.cmd = nil }()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("pecan serve exited with %v", err)
		}
		return err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("pecan serve did not stop within 30s of SIGTERM; killed")
	}
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// procStat is what /proc says of a process: resident memory and CPU time.
type procStat struct {
	RSSBytes int64
	CPU      time.Duration // user + system
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

func readProc(pid int) (procStat, error) {
	var st procStat
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fields := strings.Fields(rest) // "12345 kB"
			kb, _ := strconv.ParseInt(fields[0], 10, 64)
			st.RSSBytes = kb * 1024
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	// The command name, field 2, may hold spaces; count from after it.
	// utime and stime are fields 14 and 15.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 13 {
		return st, fmt.Errorf("parse /proc/%d/stat: too few fields", pid)
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	st.CPU = time.Duration(utime+stime) * time.Second / clockTicks
	return st, nil
}

// sampler reads a process's RSS every 100 ms while a run goes on.
type sampler struct {
	pid     int
	start   procStat
	stopped chan struct{}
	done    sync.WaitGroup

	mu     sync.Mutex
	maxRSS int64
}

// sample starts sampling pid; pid 0 (a server elsewhere) samples nothing.
func sample(pid int) *sampler {
	s := &sampler{pid: pid, stopped: make(chan struct{})}
	if pid == 0 {
		return s
	}
	s.start, _ = readProc(pid)
	s.maxRSS = s.start.RSSBytes
	s.done.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stopped:
				return
			case <-tick.C:
				if st, err := readProc(pid); err == nil {
					s.mu.Lock()
					s.maxRSS = max(s.maxRSS, st.RSSBytes)
					s.mu.Unlock()
				}
			}
		}
	})
	return s
}

// serverUsage is a run's resource use by the server.
type serverUsage struct {
	MaxRSS, EndRSS int64
	CPU            time.Duration
}

func (s *sampler) finish() serverUsage {
	close(s.stopped)
	s.done.Wait()
	if s.pid == 0 {
		return serverUsage{}
	}
	end, err := readProc(s.pid)
	if err != nil {
		return serverUsage{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return serverUsage{MaxRSS: max(s.maxRSS, end.RSSBytes), EndRSS: end.RSSBytes, CPU: end.CPU - s.start.CPU}
}
