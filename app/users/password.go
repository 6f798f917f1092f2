package users

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

// ErrBadCredentials is the one answer to a failed sign-in, whether the
// account is unknown, has no password or the password is wrong.
var ErrBadCredentials = errors.New("wrong username or password")

// CheckPassword returns the local user with that username if the password
// is theirs. Every failure costs one bcrypt comparison, so the time taken
// does not tell whether the account exists.
func (p *Processor) CheckPassword(ctx context.Context, username, password string) (*models.User, error) {
	u, err := p.passwordUser(ctx, username)
	if err != nil {
		return nil, err
	}
	hash := p.decoyHash()
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u == nil {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// passwordUser finds the account that may sign in with a password, or nil.
func (p *Processor) passwordUser(ctx context.Context, username string) (*models.User, error) {
	if !usernamePattern.MatchString(username) {
		return nil, nil
	}
	u, err := p.db.UserByUsername(ctx, strings.ToLower(username))
	if errors.Is(err, database.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Remote() || u.PasswordHash == "" {
		return nil, nil
	}
	return u, nil
}

// decoyHash is compared against when there is no account, made with the
// same cost as real hashes so the comparison takes as long. Matching it
// proves nothing: CheckPassword fails without an account regardless.
func (p *Processor) decoyHash() []byte {
	p.decoyOnce.Do(func() {
		h, err := bcrypt.GenerateFromPassword([]byte("no account has this password"), p.bcryptCost)
		if err != nil {
			panic(fmt.Sprintf("users: make decoy hash: %v", err))
		}
		p.decoy = h
	})
	return p.decoy
}
