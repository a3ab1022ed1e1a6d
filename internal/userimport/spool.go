package userimport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanyard-id/lanyard"
)

// chunkRows is how many rows one hashing worker takes at a time.
const chunkRows = 16

// chunk is a run of rows hashed by one worker; done is closed when all
// are.
type chunk struct {
	rows []row
	done chan struct{}
}

// hashToSpool reads the file again, hashes the passwords given in clear
// with opt.Workers workers and writes every row, in file order, to a
// spool file that holds hashes only, never a password. Memory stays
// bounded: the reader runs at most a few chunks ahead of the writer, and
// each worker holds one hash. It returns the spool, ready to be read.
func hashToSpool(ctx context.Context, r io.Reader, hash func(string) string, total int, opt Options) (*spool, error) {
	rr, err := newRowReader(r)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "lanyard-import-*.spool")
	if err != nil {
		return nil, fmt.Errorf("create the import spool: %w", err)
	}
	// The file has no name from now on: it goes when it is closed, even
	// if this process dies.
	os.Remove(f.Name())
	sp := &spool{f: f}
	if err := sp.fill(ctx, rr, hash, total, opt); err != nil {
		f.Close()
		return nil, err
	}
	return sp, nil
}

// spool is a temporary file of rows ready for the store.
type spool struct {
	f  *os.File
	br *bufio.Reader
}

func (sp *spool) Close() error { return sp.f.Close() }

func (sp *spool) fill(ctx context.Context, rr *rowReader, hash func(string) string, total int, opt Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *chunk)
	ordered := make(chan *chunk, 2*opt.Workers)
	var hashed atomic.Int64
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Go(func() {
			for c := range work {
				for i := range c.rows {
					nu := &c.rows[i].nu
					if nu.Password != "" && ctx.Err() == nil {
						nu.PasswordHash, nu.Password = hash(nu.Password), ""
						hashed.Add(1)
					}
				}
				close(c.done)
			}
		})
	}
	// The reader hands each chunk to a worker and, in file order, to the
	// writer below.
	readErr := make(chan error, 1)
	go func() {
		defer close(ordered)
		defer close(work)
		readErr <- readChunks(ctx, rr, work, ordered)
	}()
	stop := startProgress(opt.Progress, &hashed, total)
	w := bufio.NewWriterSize(sp.f, 1<<16)
	var werr error
	for c := range ordered {
		select {
		case <-c.done:
		case <-ctx.Done():
		}
		for i := range c.rows {
			if werr == nil && ctx.Err() == nil {
				werr = writeRow(w, &c.rows[i])
			}
		}
		if werr != nil {
			cancel()
		}
	}
	wg.Wait()
	stop()
	if err := <-readErr; err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if werr == nil {
		werr = w.Flush()
	}
	if werr != nil {
		return fmt.Errorf("write the import spool: %w", werr)
	}
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read the import spool: %w", err)
	}
	sp.br = bufio.NewReaderSize(sp.f, 1<<16)
	return nil
}

// readChunks reads the rows in chunks; a bad row ends it with an error,
// since the check passed: the file changed in between.
func readChunks(ctx context.Context, rr *rowReader, work, ordered chan<- *chunk) error {
	c := &chunk{done: make(chan struct{})}
	send := func() error {
		for _, ch := range []chan<- *chunk{ordered, work} {
			select {
			case ch <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		c = &chunk{done: make(chan struct{})}
		return nil
	}
	for {
		r, problem, err := rr.next()
		if problem != "" {
			return lanyard.Errorf(lanyard.EINVALID, "nothing imported: %s (the file changed while it was imported)", problem)
		}
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
		if c.rows = append(c.rows, r); len(c.rows) == chunkRows {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if len(c.rows) > 0 {
		return send()
	}
	return nil
}

// A spooled row is its line number, then username, email, common name,
// state, roles (comma-separated) and password hash, each a length and
// the bytes.
func writeRow(w *bufio.Writer, r *row) error {
	var b [binary.MaxVarintLen64]byte
	w.Write(b[:binary.PutUvarint(b[:], uint64(r.line))])
	u := &r.nu.User
	roles := make([]string, len(u.Roles))
	for i, role := range u.Roles {
		roles[i] = string(role)
	}
	for _, s := range []string{u.Username, u.Email, u.CommonName, string(u.State), strings.Join(roles, ","), r.nu.PasswordHash} {
		w.Write(b[:binary.PutUvarint(b[:], uint64(len(s)))])
		if _, err := w.WriteString(s); err != nil {
			return err
		}
	}
	return nil
}

// next reads the next spooled row.
func (sp *spool) next() (row, string, error) {
	line, err := binary.ReadUvarint(sp.br)
	if errors.Is(err, io.EOF) {
		return row{}, "", io.EOF
	} else if err != nil {
		return row{}, "", fmt.Errorf("read the import spool: %w", err)
	}
	var f [6]string
	for i := range f {
		n, err := binary.ReadUvarint(sp.br)
		if err != nil || n > 1<<16 {
			return row{}, "", fmt.Errorf("read the import spool: %v", errOr(err, "field too long"))
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(sp.br, b); err != nil {
			return row{}, "", fmt.Errorf("read the import spool: %w", err)
		}
		f[i] = string(b)
	}
	u := lanyard.User{Username: f[0], Email: f[1], CommonName: f[2], State: lanyard.UserState(f[3])}
	for _, role := range strings.Split(f[4], ",") {
		u.Roles = append(u.Roles, lanyard.Role(role))
	}
	return row{line: int(line), nu: lanyard.NewUser{User: u, PasswordHash: f[5]}}, "", nil
}

func errOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

// startProgress tells report how many of total passwords are hashed, once
// a second until the returned function is called, and once more then.
func startProgress(report func(Progress), hashed *atomic.Int64, total int) (stop func()) {
	if report == nil {
		return func() {}
	}
	start := time.Now()
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				report(Progress{Hashed: int(hashed.Load()), Total: total, Elapsed: time.Since(start)})
			case <-quit:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
		report(Progress{Hashed: int(hashed.Load()), Total: total, Elapsed: time.Since(start), Done: true})
	}
}
