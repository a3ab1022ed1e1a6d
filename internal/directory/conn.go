package directory

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/go-ldap/ldap/v3"
)

// pool keeps a few idle connections to the directory, so that logins do
// not each pay for a TCP and TLS handshake. A connection is bound anew
// before every use: the last user may have bound as someone else.
type pool struct {
	cfg  Config
	mu   sync.Mutex
	idle []*ldap.Conn
}

const maxIdle = 4

// get returns an open connection, upgraded by StartTLS when configured.
func (p *pool) get() (*ldap.Conn, error) {
	p.mu.Lock()
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.IsClosing() {
			p.mu.Unlock()
			return c, nil
		}
		c.Close()
	}
	p.mu.Unlock()
	return p.dial()
}

// put returns a healthy connection to the pool; broken ones are closed.
func (p *pool) put(c *ldap.Conn, healthy bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !healthy || c.IsClosing() || len(p.idle) >= maxIdle {
		c.Close()
		return
	}
	p.idle = append(p.idle, c)
}

// close closes the idle connections.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.idle {
		c.Close()
	}
	p.idle = nil
}

func (p *pool) dial() (*ldap.Conn, error) {
	c, err := ldap.DialURL(p.cfg.URL,
		ldap.DialWithDialer(&net.Dialer{Timeout: p.cfg.Timeout}),
		ldap.DialWithTLSConfig(p.cfg.tlsConfig()))
	if err != nil {
		return nil, unreachable(err)
	}
	c.SetTimeout(p.cfg.Timeout)
	if p.cfg.StartTLS {
		if err := c.StartTLS(p.cfg.tlsConfig()); err != nil {
			c.Close()
			return nil, fmt.Errorf("StartTLS: %w", unreachable(err))
		}
	}
	return c, nil
}

// bindService binds c as the service account lanyard reads the directory as.
func (p *pool) bindService(c *ldap.Conn) error {
	if p.cfg.BindDN == "" {
		return nil // an anonymous read
	}
	if err := c.Bind(p.cfg.BindDN, p.cfg.BindPassword); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			return errors.New("bind as --ldap-bind-dn refused: wrong DN or password")
		}
		return fmt.Errorf("bind as --ldap-bind-dn: %w", unreachable(err))
	}
	return nil
}

// errUnreachable marks a directory that did not answer, as opposed to
// one that answered with a refusal.
var errUnreachable = errors.New("unreachable")

// unreachable phrases a network-level failure so that it says so, without
// the library's wrapping.
func unreachable(err error) error {
	var le *ldap.Error
	if errors.As(err, &le) && le.ResultCode == ldap.ErrorNetwork {
		msg := le.Err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return fmt.Errorf("%w: %s", errUnreachable, msg)
	}
	return err
}

// isUnreachable reports whether err is a network failure, not an answer.
func isUnreachable(err error) bool {
	var le *ldap.Error
	return errors.Is(err, errUnreachable) || errors.As(err, &le) && le.ResultCode == ldap.ErrorNetwork
}
