package convert

import (
	"strings"

	"github.com/pecan-social/pecan/models"
)

// App is a registered OAuth app as its owner sees it. ClientSecret is set
// only in the response that registers it.
type App struct {
	ID           string   `json:"id"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Name         string   `json:"name"`
	Website      string   `json:"website"`
	RedirectURIs []string `json:"redirect_uris"`
	Scopes       []string `json:"scopes"`
	IsTrusted    bool     `json:"is_trusted"`
	CreatedAt    string   `json:"created_at"`
}

// ToApp renders a; secret is passed only when just registered.
func ToApp(a *models.App, secret string) App {
	uris := []string(a.RedirectURIs)
	if uris == nil {
		uris = []string{}
	}
	return App{
		ID: ID(a.ID), ClientID: a.ClientID, ClientSecret: secret, Name: a.Name, Website: a.Website,
		RedirectURIs: uris, Scopes: a.Scopes.Strings(), IsTrusted: a.Trusted, CreatedAt: Time(a.CreatedAt),
	}
}

// ToApps renders a list.
func ToApps(as []*models.App) []App {
	out := make([]App, len(as))
	for i, a := range as {
		out[i] = ToApp(a, "")
	}
	return out
}

// AccessToken is the token endpoint's answer: RFC 6749 §5.1's fields plus
// pnut's (the token as GET /token shows it, and the user). It is plain
// JSON, not the API envelope.
type AccessToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	Scope       string    `json:"scope"` // space-separated, as RFC 6749 writes scopes
	Token       TokenInfo `json:"token"`
	UserID      string    `json:"user_id,omitempty"`
	Username    string    `json:"username,omitempty"`
}

// ToAccessToken renders a token just issued by OAuth, with its secret.
func ToAccessToken(raw string, t *models.Token, publicURL string) AccessToken {
	out := AccessToken{
		AccessToken: raw, TokenType: "bearer", Scope: strings.Join(t.Scopes.Strings(), " "),
		Token: ToTokenInfo(t, publicURL),
	}
	if t.User != nil {
		out.UserID, out.Username = ID(t.User.ID), t.User.Username
	}
	return out
}

// Authorization is an app a user let in: what it may do and the tokens it
// holds.
type Authorization struct {
	App          TokenApp `json:"app"`
	Scopes       []string `json:"scopes"`
	AuthorizedAt string   `json:"authorized_at"`
	UpdatedAt    string   `json:"updated_at"`
	Tokens       []Token  `json:"tokens"`
}

// ToAuthorization renders one grant with its tokens.
func ToAuthorization(g *models.Grant, tokens []*models.Token) Authorization {
	return Authorization{
		App: ToTokenApp(g.App), Scopes: g.Scopes.Strings(),
		AuthorizedAt: Time(g.CreatedAt), UpdatedAt: Time(g.UpdatedAt), Tokens: ToTokens(tokens),
	}
}
