// Package userimport reads users from CSV — the header
// username,email,common_name,state,roles,password — and imports them all or
// none, reporting every bad row by its line number. The lanyard command and
// Admin › Users share it.
//
// An import reads the file twice and never holds it whole. The first pass
// checks every row, so that a bad file is refused before anything is
// hashed or locked. The second feeds the rows to the store, which inserts
// them in batches in one transaction. Passwords given in clear are hashed
// in between, on every core, into a spool file of finished rows, so that
// the transaction does not wait on the hashing: on SQLite it holds the
// database's write lock while it runs.
package userimport

import (
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"

	"github.com/lanyard-id/lanyard"
)

// Columns is the header a user CSV file must start with.
var Columns = []string{"username", "email", "common_name", "state", "roles", "password"}

// MaxRows bounds one import, and so the memory its check of duplicate
// usernames takes (20 to 40 MB a million rows); larger files are split by
// the operator.
const MaxRows = 5_000_000

// Options tune an import; the zero value is the lanyard command's.
type Options struct {
	// Workers is how many passwords are hashed at once; 0 means one per
	// CPU (GOMAXPROCS). Each argon2id hash holds its memory cost (19 MiB
	// by default) while it runs.
	Workers int
	// MaxPasswords bounds how many passwords given in clear one import
	// hashes; 0 means no bound.
	MaxPasswords int
	// Progress, when set, is told how the hashing goes, at most once a
	// second, and once more when it is done.
	Progress func(Progress)
}

// Import reads the CSV from r and creates every user in it, or none: a bad
// row, a username twice in the file or one that exists already aborts the
// whole import with a message naming the lines (the first 20, then how
// many more). It returns how many users it created. r is read twice.
func Import(ctx context.Context, users lanyard.UserService, actor lanyard.Actor, r io.ReadSeeker, opt Options) (int, error) {
	st, err := check(r)
	if err != nil {
		return 0, err
	}
	if opt.MaxPasswords > 0 && st.passwords > opt.MaxPasswords {
		return 0, lanyard.Errorf(lanyard.EINVALID, "nothing imported: the file has %d passwords to hash, more than %d; import it with lanyard user import, or give argon2id or bcrypt hashes", st.passwords, opt.MaxPasswords)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("read the file again: %w", err)
	}
	var src rowSource
	if st.passwords == 0 {
		rr, err := newRowReader(r)
		if err != nil {
			return 0, err
		}
		src = rr
	} else {
		if opt.Workers <= 0 {
			opt.Workers = runtime.GOMAXPROCS(0)
		}
		sp, err := hashToSpool(ctx, r, users.HashPassword, st.passwords, opt)
		if err != nil {
			return 0, err
		}
		defer sp.Close()
		src = sp
	}
	pf := newPrefetch(src)
	defer pf.Close()
	return users.ImportUserStream(ctx, actor, newStream(pf))
}

// stats is what the check of a file found.
type stats struct {
	rows, passwords int
}

// check reads every row and reports every bad one: fields that are not
// valid, a username already on an earlier line, a malformed hash. The
// pass keeps only a 64-bit hash of each username with its line (20 to 40
// MB for a million users, where the names themselves took 50 more); a
// username whose hash was seen is compared with the earlier one's by
// reading both again, so that a collision of hashes is no duplicate.
func check(r io.ReadSeeker) (stats, error) {
	var st stats
	rr, err := newRowReader(r)
	if err != nil {
		return st, err
	}
	var probs problems
	seed := maphash.MakeSeed()
	seen := map[uint64]int32{}
	suspects := map[int]int{} // line → the earlier line of the same hash
	for {
		row, problem, err := rr.next()
		if problem != "" {
			probs.add(row.line, problem)
		}
		if err == io.EOF {
			break
		} else if err != nil {
			return st, err
		} else if problem != "" {
			continue
		}
		h := maphash.String(seed, row.nu.User.Username)
		if prev, dup := seen[h]; dup {
			suspects[row.line] = int(prev)
			continue
		}
		seen[h] = int32(row.line)
		st.rows++
		if row.nu.Password != "" {
			st.passwords++
		}
	}
	seen = nil
	if len(suspects) > 0 {
		if err := checkSuspects(r, suspects, &probs); err != nil {
			return st, err
		}
	}
	if err := probs.err(lanyard.EINVALID); err != nil {
		return st, err
	}
	if st.rows == 0 {
		return st, lanyard.Errorf(lanyard.EINVALID, "nothing imported: the file has no rows after the header")
	}
	return st, nil
}

// checkSuspects reads the file again for the usernames on the lines whose
// hashes met, and reports those that are the same username.
func checkSuspects(r io.ReadSeeker, suspects map[int]int, probs *problems) error {
	names := map[int]string{}
	for line, prev := range suspects {
		names[line], names[prev] = "", ""
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read the file again: %w", err)
	}
	rr, err := newRowReader(r)
	if err != nil {
		return err
	}
	for {
		row, problem, err := rr.next()
		if err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		if _, want := names[row.line]; want && problem == "" {
			names[row.line] = row.nu.User.Username
		}
	}
	for line, prev := range suspects {
		if name := names[line]; name != "" && name == names[prev] {
			probs.add(line, fmt.Sprintf("line %d: username %q also on line %d", line, name, prev))
		}
	}
	return nil
}
