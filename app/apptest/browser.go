package apptest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumEnv names a Chromium (or Chrome) binary to use instead of the
// first of chromiumNames found on PATH.
const ChromiumEnv = "PECAN_TEST_CHROMIUM"

var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// browserTimeout bounds each step, so a page that never loads fails the
// test instead of hanging it.
const browserTimeout = 30 * time.Second

// Browser is a headless Chromium driven over the DevTools protocol, for
// tests that must see what a person's browser does: cookies, forms,
// redirects, pages. Each step fails the test on error.
type Browser struct {
	t   testing.TB
	ctx context.Context
}

// FindChromium returns the browser binary to use, or "".
func FindChromium() string {
	if path := os.Getenv(ChromiumEnv); path != "" {
		return path
	}
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}

// StartBrowser starts a fresh headless Chromium with an empty profile that
// lasts until the test ends. Without one installed the test is skipped,
// saying so.
func StartBrowser(t testing.TB) *Browser {
	t.Helper()
	path := FindChromium()
	if path == "" {
		t.Skipf("apptest: no Chromium found (looked for %s on PATH, and $%s); install it with: apt-get install -y chromium",
			strings.Join(chromiumNames, ", "), ChromiumEnv)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests run as root, where Chromium's sandbox cannot start
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser, which lives as long as the context
	// of that run: it must be the browser's own, without a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("browser: start %s: %v", path, err)
	}
	return &Browser{t: t, ctx: ctx}
}

// do runs one step with a time limit.
func do[T any](b *Browser, what string, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.t.Fatalf("browser: %s: %v (page at %s)", what, err, b.currentURL())
	}
	return v
}

// Open loads url and waits for the page to finish loading.
func (b *Browser) Open(url string) {
	b.t.Helper()
	do(b, "open "+url, chromedp.Navigate(url))
}

// Fill types value into the input the CSS selector names, replacing what
// it held.
func (b *Browser) Fill(selector, value string) {
	b.t.Helper()
	do(b, "clear "+selector, chromedp.Clear(chromedp.CSS(selector)))
	do(b, "fill "+selector, chromedp.SendKeys(chromedp.CSS(selector), value))
}

// Click clicks the element the CSS selector names. A click that submits a
// form or follows a link returns before the next page loads: use WaitURL.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	do(b, "click "+selector, chromedp.Click(chromedp.CSS(selector)))
}

// URL is the address of the page the browser shows.
func (b *Browser) URL() string {
	b.t.Helper()
	return do(b, "read the URL", chromedp.Location())
}

func (b *Browser) currentURL() string {
	ctx, cancel := context.WithTimeout(b.ctx, time.Second)
	defer cancel()
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown"
	}
	return url
}

// WaitURL waits until the browser shows a page whose address starts with
// prefix, and returns that address.
func (b *Browser) WaitURL(prefix string) string {
	b.t.Helper()
	deadline := time.Now().Add(browserTimeout)
	for {
		url := b.currentURL()
		if strings.HasPrefix(url, prefix) {
			return url
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: still at %s after %s; want a page at %s…", url, browserTimeout, prefix)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Text is the visible text of the element the CSS selector names.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	return do(b, "read "+selector, chromedp.Text(chromedp.CSS(selector)))
}

// Screenshot saves a PNG of the whole page at path.
func (b *Browser) Screenshot(path string) {
	b.t.Helper()
	png := do(b, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("browser: save screenshot: %v", err)
	}
}
