package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/oauth"
)

// accessToken is the token endpoint (RFC 6749 §3.2): a form-encoded POST
// answered with plain JSON, as pnut and every OAuth client expect.
func (s *server) accessToken(c echo.Context) error {
	hdr := c.Response().Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Pragma", "no-cache")
	r := c.Request()
	if mt, _ := mediaType(r); mt != mediaForm {
		return s.tokenError(c, &oauth.Error{Status: http.StatusBadRequest, Code: "invalid_request",
			Description: "send the request as application/x-www-form-urlencoded"}, false)
	}
	if err := r.ParseForm(); err != nil {
		return s.tokenError(c, &oauth.Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: "the form body is malformed"}, false)
	}
	form := r.PostForm
	tr := oauth.TokenRequest{
		GrantType: form.Get("grant_type"), ClientID: form.Get("client_id"), ClientSecret: form.Get("client_secret"),
		Code: form.Get("code"), RedirectURI: form.Get("redirect_uri"), CodeVerifier: form.Get("code_verifier"),
		Username: form.Get("username"), Password: form.Get("password"),
		PasswordGrantSecret: form.Get("password_grant_secret"), Scope: form.Get("scope"), IP: c.RealIP(),
	}
	usedBasic, err := basicClient(r, &tr)
	if err != nil {
		return s.tokenError(c, err, false)
	}
	issued, err := s.oauth.Token(r.Context(), tr)
	if err != nil {
		return s.tokenError(c, err, usedBasic)
	}
	return c.JSON(http.StatusOK, convert.ToAccessToken(issued.Raw, issued.Token, s.cfg.PublicURL()))
}

// basicClient takes the client's credentials from HTTP Basic
// authentication when it is used (RFC 6749 §2.3.1: the names are
// form-encoded first). Credentials sent both ways are refused.
func basicClient(r *http.Request, tr *oauth.TokenRequest) (bool, error) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return false, nil
	}
	id, errID := url.QueryUnescape(id)
	secret, errSecret := url.QueryUnescape(secret)
	twice := tr.ClientSecret != "" || (tr.ClientID != "" && tr.ClientID != id)
	if errID != nil || errSecret != nil || twice {
		return true, &oauth.Error{Status: http.StatusBadRequest, Code: "invalid_request",
			Description: "send the client credentials once: in the Authorization header or in the form"}
	}
	tr.ClientID, tr.ClientSecret = id, secret
	return true, nil
}

type tokenErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	ErrorID     string `json:"error_id,omitempty"`
}

// tokenError answers in RFC 6749 §5.2's shape. Failures that are not the
// client's are logged with an id the answer carries.
func (s *server) tokenError(c echo.Context, err error, usedBasic bool) error {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		id := newErrorID()
		s.logger.ErrorContext(c.Request().Context(), "token endpoint failed", "error", err.Error(), "error_id", id)
		return c.JSON(http.StatusInternalServerError, tokenErrorBody{Error: "server_error", Description: "internal error", ErrorID: id})
	}
	if oe.Status == http.StatusUnauthorized && usedBasic {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="pecan"`)
	}
	if oe.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(ceilSeconds(oe.RetryAfter)))
	}
	return c.JSON(oe.Status, tokenErrorBody{Error: oe.Code, Description: oe.Description})
}
