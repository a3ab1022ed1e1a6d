package oidc

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lanyard-id/lanyard"
)

// NewClient is what an administrator registers an application with.
type NewClient struct {
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Public                 bool
	AllowPassword          bool
	RefreshTokens          bool
	IDTokenAlg             string // "" for RS256
}

// MaxRedirectURIs bounds the URIs of one application.
const MaxRedirectURIs = 20

// Validate checks the fields of a new application.
func (n *NewClient) Validate() error {
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" || utf8.RuneCountInString(n.Name) > 100 || !lanyard.ValidText(n.Name) ||
		strings.ContainsFunc(n.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return lanyard.Errorf(lanyard.EINVALID, "The application needs a name of at most 100 characters, without control characters.")
	}
	if n.IDTokenAlg == "" {
		n.IDTokenAlg = Algorithms[0]
	}
	if !slices.Contains(Algorithms, n.IDTokenAlg) {
		return lanyard.Errorf(lanyard.EINVALID, "The ID token algorithm must be one of %s.", strings.Join(Algorithms, ", "))
	}
	var err error
	if n.RedirectURIs, err = validURIs(n.RedirectURIs, "redirect URI"); err != nil {
		return err
	}
	if len(n.RedirectURIs) == 0 {
		return lanyard.Errorf(lanyard.EINVALID, "The application needs at least one redirect URI.")
	}
	n.PostLogoutRedirectURIs, err = validURIs(n.PostLogoutRedirectURIs, "post-logout redirect URI")
	return err
}

// validURIs checks absolute URIs without fragments, as OpenID Connect
// requires of redirect URIs, and drops blanks and repeats.
func validURIs(uris []string, what string) ([]string, error) {
	var out []string
	for _, s := range uris {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(out, s) {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() || u.Fragment != "" || len(s) > 2000 || !lanyard.ValidText(s) {
			return nil, lanyard.Errorf(lanyard.EINVALID, "The %s %q must be an absolute URI without a fragment.", what, s)
		}
		if u.Scheme == "http" || u.Scheme == "https" {
			if u.Host == "" {
				return nil, lanyard.Errorf(lanyard.EINVALID, "The %s %q has no host.", what, s)
			}
		} else if u.Scheme == "javascript" || u.Scheme == "data" || u.Scheme == "file" {
			return nil, lanyard.Errorf(lanyard.EINVALID, "The %s %q has a scheme that may not be redirected to.", what, s)
		}
		out = append(out, s)
	}
	if len(out) > MaxRedirectURIs {
		return nil, lanyard.Errorf(lanyard.EINVALID, "An application may have at most %d of each kind of URI.", MaxRedirectURIs)
	}
	return out, nil
}

func newSecret() string { return rand.Text() + rand.Text() }

// Registry manages the registered applications. It needs no keys, so the
// shell's add-client works without the master key; a Provider has one.
type Registry struct {
	store Store
}

// NewRegistry returns the registry of the applications in st.
func NewRegistry(st Store) *Registry { return &Registry{store: st} }

// AddClient registers an application and returns it with its secret (""
// for a public client), which is shown once and stored only as a hash.
func (reg *Registry) AddClient(ctx context.Context, actor lanyard.Actor, n NewClient) (*Client, string, error) {
	if err := n.Validate(); err != nil {
		return nil, "", err
	}
	c := &Client{Name: n.Name, RedirectURIs: n.RedirectURIs, PostLogoutRedirectURIs: n.PostLogoutRedirectURIs,
		Public: n.Public, AllowPassword: n.AllowPassword, RefreshTokens: n.RefreshTokens, IDTokenAlg: n.IDTokenAlg}
	var sec string
	if !n.Public {
		sec = newSecret()
		c.SecretHash = hashSecret(sec)
	}
	if err := reg.store.CreateClient(ctx, actor, c); err != nil {
		return nil, "", err
	}
	return c, sec, nil
}

// Clients lists the registered applications.
func (reg *Registry) Clients(ctx context.Context) ([]*Client, error) {
	return reg.store.FindClients(ctx)
}

// Client returns one application.
func (reg *Registry) Client(ctx context.Context, clientID string) (*Client, error) {
	return reg.store.FindClient(ctx, clientID)
}

// UpdateClient saves an edited application: its name, URIs, password
// option and algorithm. Whether it is public stays as registered.
func (reg *Registry) UpdateClient(ctx context.Context, actor lanyard.Actor, clientID string, n NewClient) (*Client, error) {
	c, err := reg.store.FindClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	n.Public = c.Public
	if err := n.Validate(); err != nil {
		return nil, err
	}
	c.Name, c.RedirectURIs, c.PostLogoutRedirectURIs, c.AllowPassword, c.RefreshTokens, c.IDTokenAlg = n.Name, n.RedirectURIs, n.PostLogoutRedirectURIs, n.AllowPassword, n.RefreshTokens, n.IDTokenAlg
	detail := fmt.Sprintf("name %q, redirect URIs %s, post-logout URIs %s, password login %t, refresh tokens %t, %s",
		c.Name, strings.Join(c.RedirectURIs, " "), strings.Join(c.PostLogoutRedirectURIs, " "), c.AllowPassword, c.RefreshTokens, c.IDTokenAlg)
	if err := reg.store.UpdateClient(ctx, actor, c, detail); err != nil {
		return nil, err
	}
	return c, nil
}

// SetClientDisabled disables an application (its tokens are revoked and
// it is refused as unknown) or enables it again.
func (reg *Registry) SetClientDisabled(ctx context.Context, actor lanyard.Actor, clientID string, disabled bool) error {
	c, err := reg.store.FindClient(ctx, clientID)
	if err != nil {
		return err
	}
	c.Disabled = disabled
	detail := "enabled"
	if disabled {
		detail = "disabled"
	}
	return reg.store.UpdateClient(ctx, actor, c, detail)
}

// RotateSecret gives a confidential application a new secret, returned
// once; the old one stops working at once.
func (reg *Registry) RotateSecret(ctx context.Context, actor lanyard.Actor, clientID string) (string, error) {
	sec := newSecret()
	if err := reg.store.SetClientSecret(ctx, actor, clientID, hashSecret(sec)); err != nil {
		return "", err
	}
	return sec, nil
}

// DeleteClient deletes an application, its consents and its tokens.
func (reg *Registry) DeleteClient(ctx context.Context, actor lanyard.Actor, clientID string) error {
	return reg.store.DeleteClient(ctx, actor, clientID)
}
