package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/errs"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/pecan.css
var css []byte

// cssURL carries a digest of the stylesheet, so it can be cached for long
// and a new version is fetched as soon as it changes.
var cssURL = func() string {
	sum := sha256.Sum256(css)
	return "/static/pecan.css?v=" + hex.EncodeToString(sum[:6])
}()

// pageCSP allows the page's own stylesheet and nothing else: no script,
// no frames, no form posts, no base URL games.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// view is everything a page template reads.
type view struct {
	Title       string
	Description string
	Canonical   string
	ActivityPub string // the alternate application/activity+json document
	OGType      string
	Host        string
	CSS         string
	Status      int
	Message     string
	ExtraCSS    string
	Wide        bool
	csp         string

	User      *convert.WebUser
	Tag       string
	Posts     []webPost
	Older     string
	ThreadCut bool
}

var funcs = template.FuncMap{
	"datetime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"human":    func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
}

// pages are the parsed templates, one set per page, each with the layout
// and the shared parts.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"home", "profile", "post", "tag", "gone", "error", "docs"} {
		out[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFiles,
			"templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
	}
	return out
}()

// render writes a page with the security headers every page carries.
func (p *Pages) render(c echo.Context, status int, name string, v view) error {
	v.Host, v.CSS, v.Status = p.site.Host(), cssURL, status
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	csp := pageCSP
	if v.csp != "" {
		csp = v.csp
	}
	setPageHeaders(c.Response().Header(), csp)
	return c.HTMLBlob(status, buf.Bytes())
}

func setPageHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Frame-Options", "DENY")
}

// page wraps a page handler so its failures are pages too: a short page
// with the status and what went wrong, or, for a server fault, an apology
// and a log line.
func (p *Pages) page(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := h(c)
		if err == nil || c.Response().Committed {
			return err
		}
		status, message := http.StatusInternalServerError, "Something went wrong on this server. Please try again later."
		if e, ok := errs.As(err); ok && e.Status < http.StatusInternalServerError {
			status, message = e.Status, e.Message
		} else if he, ok := err.(*echo.HTTPError); ok && he.Code < http.StatusInternalServerError {
			status, message = he.Code, http.StatusText(he.Code)
		} else {
			p.logger.ErrorContext(c.Request().Context(), "page failed", "path", c.Request().URL.Path, "error", err.Error())
		}
		if c.Request().Method == http.MethodHead {
			return c.NoContent(status)
		}
		return p.render(c, status, "error", view{Title: http.StatusText(status), Message: message})
	}
}

func stylesheet(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=604800")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", css)
}
