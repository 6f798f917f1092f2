package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
)

// chromium finds a Chromium to drive: $PECAN_CHROMIUM, or Debian's
// chromium (which .ci/run installs) on the PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PECAN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found (install Debian's chromium, or set PECAN_CHROMIUM): the browser test cannot run")
	return ""
}

// browser starts a headless Chromium with a phone-sized window for the
// test; it is gone when the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.WindowSize(412, 915),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	return ctx
}

// screenshot saves what the browser shows under dir (the test's temp dir,
// and $PECAN_TEST_SCREENSHOTS too when set, to look at afterwards).
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	for _, d := range []string{dir, os.Getenv("PECAN_TEST_SCREENSHOTS")} {
		if d == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot %s.png: %d bytes", name, len(png))
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func visit(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	if resp.Status != 200 {
		t.Fatalf("open %s: status %d", url, resp.Status)
	}
	if n := eval[int](t, ctx, `document.scripts.length`); n != 0 {
		t.Fatalf("%s runs %d scripts", url, n)
	}
}

// TestPagesInChromium opens a profile, a post and a thread in a real
// browser, reveals an NSFW post with a click, and checks that the API
// reference draws under its CSP. Screenshots go to the test's temp dir.
func TestPagesInChromium(t *testing.T) {
	chromium(t)
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b, func(c *config.Config) { c.RateLimits.Enabled = false })
		ctx, dir, base := browser(t), t.TempDir(), s.srv.URL
		// What the browser is about to show validates, with no script.
		for _, path := range []string{"/@alice", "/@alice/" + s.hello.ID, "/@bob/" + s.reply.ID, "/@alice/" + s.nsfw.ID} {
			s.page(t, path, 200)
		}

		visit(t, ctx, base+"/@alice")
		if got := eval[string](t, ctx, `document.querySelector("h1").textContent`); got != "Alice <Liddell>" {
			t.Fatalf("profile heading %q", got)
		}
		screenshot(t, ctx, dir, b.Name+"-profile")

		visit(t, ctx, base+"/@alice/"+s.hello.ID)
		if n := eval[int](t, ctx, `document.querySelectorAll(".thread article.post").length`); n != 2 {
			t.Fatalf("the thread shows %d posts, want 2", n)
		}
		screenshot(t, ctx, dir, b.Name+"-post")

		visit(t, ctx, base+"/@bob/"+s.reply.ID)
		if id := eval[string](t, ctx, `document.querySelector("[aria-current=page]").id`); id != "post-"+s.reply.ID {
			t.Fatalf("the marked post is %q", id)
		}
		screenshot(t, ctx, dir, b.Name+"-thread")

		// NSFW: the text is hidden until the reader clicks to see it.
		visit(t, ctx, base+"/@alice/"+s.nsfw.ID)
		content := `document.querySelector("details.nsfw .content")`
		if eval[bool](t, ctx, content+`.checkVisibility()`) {
			t.Fatal("the NSFW text shows before the click")
		}
		screenshot(t, ctx, dir, b.Name+"-nsfw-hidden")
		if err := chromedp.Do(ctx, chromedp.Click("details.nsfw summary", chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible("details.nsfw .content")); err != nil {
			t.Fatal(err)
		}
		if text := eval[string](t, ctx, content+`.innerText`); text != "Spoilers ahead: the cake is a lie #nsfw" {
			t.Fatalf("revealed %q", text)
		}
		screenshot(t, ctx, dir, b.Name+"-nsfw-shown")

		// The API reference draws every operation under its CSP, offline.
		if _, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/docs")); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(".opblock-summary")); err != nil {
			t.Fatalf("Swagger UI drew nothing: %v", err)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll(".opblock").length`); n < 40 {
			t.Fatalf("the API reference lists %d operations", n)
		}
		screenshot(t, ctx, dir, b.Name+"-docs")
	})
}
