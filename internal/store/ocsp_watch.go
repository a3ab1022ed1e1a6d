package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lanyard-id/lanyard/internal/pki"
)

// How a process learns of the status changes other processes commit, so
// that the OCSP responder may answer from memory:
//
// PostgreSQL: the changing transaction sends NOTIFY on statusChannel with
// the serials, delivered at its commit, and each watch LISTENs on a
// connection of its own. A watch whose connection is down, or does not
// answer a ping within listenPing, is not Live, and the responder reads
// every status from the database until it listens again.
//
// SQLite: the changing transaction appends the serials to ocsp_changes,
// and each watch reads the table within pollInterval of a change of the
// write-ahead log, and at least every pollAlways.
const (
	statusChannel  = "lanyard_ocsp_status"
	listenName     = "lanyard ocsp status"
	listenPing     = time.Second
	pollInterval   = 5 * time.Millisecond
	pollAlways     = 50 * time.Millisecond
	pollBatch      = 512
	changesKept    = 10 * time.Minute
	maxNotifyBytes = 7000 // under PostgreSQL's 8000-byte payload limit
	maxRetryPause  = 2 * time.Second
)

// announceStatus tells the other processes of tx's status changes, in tx,
// so that they learn of them exactly when it commits.
func (tx *Tx) announceStatus(ctx context.Context) error {
	if len(tx.statusChanged) == 0 {
		return nil
	}
	if tx.db.dialect == Postgres {
		for _, payload := range chunkSerials(tx.statusChanged, maxNotifyBytes) {
			if err := tx.execLater(ctx, nil, `SELECT pg_notify(?, ?)`, statusChannel, payload); err != nil {
				return fmt.Errorf("announce status change: %w", err)
			}
		}
		return nil
	}
	q := `INSERT INTO ocsp_changes (serial, changed_at) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?), ", len(tx.statusChanged)), ", ")
	args := make([]any, 0, 2*len(tx.statusChanged))
	for _, s := range tx.statusChanged {
		args = append(args, s, encodeTime(tx.now))
	}
	if _, err := tx.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("record status change: %w", err)
	}
	return nil
}

// chunkSerials joins serials with commas into payloads of at most max
// bytes.
func chunkSerials(serials []string, max int) []string {
	var out []string
	var b strings.Builder
	for _, s := range serials {
		if b.Len() > 0 && b.Len()+1+len(s) > max {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s)
	}
	return append(out, b.String())
}

// changeWatches are the status watches of one DB, told of its own commits.
type changeWatches struct {
	mu  sync.Mutex
	all map[*changeWatch]struct{}
}

func (ws *changeWatches) publish(serials []string) {
	if len(serials) == 0 {
		return
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.all {
		w.fn(serials)
	}
}

// closeAll stops every watch, as the database closes.
func (ws *changeWatches) closeAll() {
	ws.mu.Lock()
	all := ws.all
	ws.all = nil
	ws.mu.Unlock()
	for w := range all {
		w.stop()
	}
}

// changeFeed is where a watch learns of what other processes commit: a
// PostgreSQL channel, or a table of SQLite read after each change of the
// write-ahead log.
type changeFeed struct {
	// what names the changes in the log.
	what string
	// channel is LISTENed to on a connection named listener; a
	// notification's payload is split at commas for fn.
	channel, listener string
	// first reads the newest mark of the SQLite table; next tells the
	// watch's fn of the changes after the mark last and returns the
	// newest; prune, when set, runs every minute.
	first func(w *changeWatch, ctx context.Context) (int64, error)
	next  func(w *changeWatch, ctx context.Context, last int64) (int64, error)
	prune func(w *changeWatch, ctx context.Context) error
}

// statusFeed carries the certificates' status changes.
var statusFeed = &changeFeed{
	what:    "OCSP status changes",
	channel: statusChannel, listener: listenName,
	first: func(w *changeWatch, ctx context.Context) (last int64, err error) {
		err = w.db.sql.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM ocsp_changes`).Scan(&last)
		return last, err
	},
	next: (*changeWatch).readChanges,
	prune: func(w *changeWatch, ctx context.Context) error {
		_, err := w.db.exec(ctx, sweepOCSPChanges, encodeTime(w.db.Now().Add(-changesKept)))
		return err
	},
}

// changeWatch is one running WatchStatus, or another watch of a feed.
type changeWatch struct {
	db     *DB
	feed   *changeFeed
	fn     func([]string)
	live   atomic.Bool
	cancel context.CancelFunc
	done   chan struct{}
	// pid is the PostgreSQL backend of the listening connection, for
	// tests that cut it.
	pid atomic.Uint32
	// pollStmt is the prepared read of the SQLite feed, made once, as
	// it runs every pollInterval.
	pollStmt *sql.Stmt
	// walSize and walTime are the write-ahead log as of walRead, the last
	// read of the change log.
	walSize          int64
	walTime, walRead time.Time
	// reads counts the reads of the SQLite feed, for tests that wait
	// until one has begun after a commit and ended.
	reads atomic.Int64
	// mark, when a test sets it, is a payload that the PostgreSQL
	// listener takes for no change: hearing it, the listener clears
	// mark, and the notifications of every commit before it have been
	// heard.
	mark atomic.Pointer[string]
}

// WatchStatus starts telling fn of every status change: at once of this
// process's own, and of the others' at the commit (PostgreSQL) or within
// a few milliseconds (SQLite).
func (s *PKIStore) WatchStatus(fn func(serials []string)) pki.StatusWatch {
	w := s.db.watch(statusFeed, fn)
	s.db.watches.mu.Lock()
	defer s.db.watches.mu.Unlock()
	if s.db.watches.all == nil {
		s.db.watches.all = map[*changeWatch]struct{}{}
	}
	s.db.watches.all[w] = struct{}{}
	return w
}

// watch starts telling fn of the changes of feed that other processes
// commit; fn(nil) means: forget everything, as after a gap.
func (db *DB) watch(feed *changeFeed, fn func([]string)) *changeWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &changeWatch{db: db, feed: feed, fn: fn, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		if db.dialect == Postgres {
			w.listen(ctx)
		} else {
			w.poll(ctx)
		}
	}()
	return w
}

// Live reports whether the other processes' changes reach the watch now.
func (w *changeWatch) Live() bool { return w.live.Load() }

// Close stops the watch and waits for it.
func (w *changeWatch) Close() {
	w.db.watches.mu.Lock()
	delete(w.db.watches.all, w)
	w.db.watches.mu.Unlock()
	w.stop()
}

func (w *changeWatch) stop() {
	w.cancel()
	<-w.done
	if w.pollStmt != nil {
		w.pollStmt.Close()
	}
	w.live.Store(false)
}

// resume marks the watch live again after a gap: whatever changed during
// the gap is forgotten first.
func (w *changeWatch) resume() {
	w.fn(nil)
	w.live.Store(true)
}

// sleep waits d or until ctx ends, and reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// listen keeps a PostgreSQL connection LISTENing, reconnecting when it
// breaks, and is Live only while it listens.
func (w *changeWatch) listen(ctx context.Context) {
	pause := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := w.listenOnce(ctx)
		w.live.Store(false)
		w.pid.Store(0)
		if ctx.Err() != nil {
			return
		}
		slog.Warn("notifications interrupted; reading from the database until they resume", "of", w.feed.what, "err", err)
		if !sleep(ctx, pause) {
			return
		}
		pause = min(2*pause, maxRetryPause)
	}
}

func (w *changeWatch) listenOnce(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(w.db.dsn)
	if err != nil {
		return err
	}
	cfg.RuntimeParams["application_name"] = w.feed.listener
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+w.feed.channel); err != nil {
		return err
	}
	w.pid.Store(conn.PgConn().PID())
	w.resume()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if m := w.mark.Load(); m != nil && n.Payload == *m {
				w.mark.CompareAndSwap(m, nil)
				continue
			}
			w.fn(strings.Split(n.Payload, ","))
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return err
		}
		// Quiet for a while: make sure the connection still answers.
		pctx, cancel := context.WithTimeout(ctx, listenPing)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return err
		}
	}
}

// poll reads the SQLite feed. It is Live after each successful read.
func (w *changeWatch) poll(ctx context.Context) {
	var last int64 = -1
	pruned := time.Time{}
	for ctx.Err() == nil {
		var err error
		if last < 0 {
			last, err = w.feed.first(w, ctx)
			if err == nil {
				w.resume()
			} else {
				last = -1
			}
		} else if w.walChanged() {
			last, err = w.feed.next(w, ctx, last)
			if err == nil {
				w.reads.Add(1)
			}
		}
		if err != nil && ctx.Err() == nil {
			if w.live.Swap(false) {
				slog.Warn("changes unreadable; reading from the database until they are", "of", w.feed.what, "err", err)
			}
			last = -1
		}
		if now := time.Now(); w.feed.prune != nil && now.Sub(pruned) > time.Minute {
			pruned = now
			if err := w.feed.prune(w, ctx); err != nil && ctx.Err() == nil {
				slog.Warn("prune changes", "of", w.feed.what, "err", err)
			}
		}
		if !sleep(ctx, pollInterval) {
			return
		}
	}
}

// walChanged reports whether the SQLite write-ahead log changed since the
// last read of the change log (every commit writes to it, and so changes
// its size or modification time), or pollAlways has passed: a commit can
// leave both as they were when it rewrites the log in place within the
// file system's timestamp granularity. An idle server costs a stat every
// pollInterval and a query every pollAlways.
func (w *changeWatch) walChanged() bool {
	fi, err := os.Stat(w.db.dsn + "-wal")
	now := time.Now()
	if err != nil || now.Sub(w.walRead) >= pollAlways ||
		fi.Size() != w.walSize || !fi.ModTime().Equal(w.walTime) {
		w.walRead = now
		if err == nil {
			w.walSize, w.walTime = fi.Size(), fi.ModTime()
		}
		return true
	}
	return false
}

// prepared returns the watch's statement q, prepared at its first use.
// A watch reads with one statement.
func (w *changeWatch) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if w.pollStmt == nil {
		stmt, err := w.db.sql.PrepareContext(ctx, q)
		if err != nil {
			return nil, err
		}
		w.pollStmt = stmt
	}
	return w.pollStmt, nil
}

// readChanges tells fn of the status changes after last and returns the
// newest one read. More than a batch at once means: forget everything.
func (w *changeWatch) readChanges(ctx context.Context, last int64) (int64, error) {
	stmt, err := w.prepared(ctx, `SELECT id, serial FROM ocsp_changes WHERE id > ? ORDER BY id LIMIT ?`)
	if err != nil {
		return last, err
	}
	rows, err := stmt.QueryContext(ctx, last, pollBatch)
	if err != nil {
		return last, err
	}
	defer rows.Close()
	var serials []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&last, &s); err != nil {
			return last, err
		}
		serials = append(serials, s)
	}
	if err := rows.Err(); err != nil {
		return last, err
	}
	switch {
	case len(serials) >= pollBatch:
		w.fn(nil)
	case len(serials) > 0:
		w.fn(serials)
	}
	return last, nil
}

// ListenerPID returns the PostgreSQL backend the watch listens on, or 0
// when it is not listening (and on SQLite): for tests that cut it.
func (w *changeWatch) ListenerPID() uint32 { return w.pid.Load() }
