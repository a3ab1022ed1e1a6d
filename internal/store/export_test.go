package store

// FailBeforeWrite makes every transaction of db fail before its nth write,
// or at its commit when it has n-1 writes; 0 turns the failure off.
func FailBeforeWrite(db *DB, n int) {
	if n == 0 {
		db.failWrite = nil
		return
	}
	db.failWrite = func(w int) bool { return w == n }
}

// CountWrites makes db record the writes of each transaction in *last:
// after an operation of one transaction it holds that transaction's count.
func CountWrites(db *DB, last *int) {
	db.failWrite = func(w int) bool {
		*last = w - 1 // asked once more at commit, with w one past the writes
		return false
	}
}
