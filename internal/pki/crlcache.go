package pki

import "sync"

// crlCache holds the latest CRL of every shard this instance serves, and
// the complete CRL (under ""), so that serving one reads no database. It
// holds one CRL a shard: the shards are days, so a few thousand at most
// over ten years of validity, and together as large as the complete CRL.
type crlCache struct {
	mu   sync.RWMutex
	crls map[string]*CRLRecord
}

func (c *crlCache) get(shard string) *CRLRecord {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.crls[shard]
}

// number returns the number of the CRL of shard held, 0 if none.
func (c *crlCache) number(shard string) int64 {
	if rec := c.get(shard); rec != nil {
		return rec.Number
	}
	return 0
}

// put holds rec unless a CRL of its shard with a higher number is held
// already: numbers only rise.
func (c *crlCache) put(rec *CRLRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crls == nil {
		c.crls = make(map[string]*CRLRecord)
	}
	if old := c.crls[rec.Shard]; old == nil || old.Number < rec.Number {
		c.crls[rec.Shard] = rec
	}
}

func (c *crlCache) drop(shard string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.crls, shard)
}
