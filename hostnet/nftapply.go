package hostnet

import (
	"errors"
	"fmt"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// nftConnIn opens an nftables connection to c's namespace, with opts, and
// returns it with the closer of the namespace's file descriptor.
func nftConnIn(c *nsConn, opts ...nftables.ConnOption) (*nftables.Conn, func(), error) {
	fd, err := openNetns(c.path())
	if err != nil {
		return nil, nil, err
	}
	nft, err := nftables.New(append([]nftables.ConnOption{nftables.WithNetNSFd(fd)}, opts...)...)
	if err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("nftables in %s: %w", c.name, err)
	}
	return nft, func() { unix.Close(fd) }, nil
}

// applyNFTSpec makes a table of c's namespace as spec says, replacing one
// that differs, in one transaction; one that is as it says stays
// untouched. opts are the connection's (a big send buffer for a big table).
func applyNFTSpec(c *nsConn, spec *nftSpec, opts ...nftables.ConnOption) error {
	nft, done, err := nftConnIn(c, opts...)
	if err != nil {
		return err
	}
	defer done()
	st, err := readNFTTable(nft, spec)
	if err != nil {
		return fmt.Errorf("read nftables table %s: %w", spec.table.Name, err)
	}
	if st.same {
		return nil
	}
	if err := spec.queueReplace(nft); err != nil {
		return fmt.Errorf("nftables table %s: %w", spec.table.Name, err)
	}
	if err := nft.Flush(); err != nil {
		return fmt.Errorf("nftables table %s: %w", spec.table.Name, err)
	}
	return nil
}

// deleteNFTTablesIn deletes tables of c's namespace; missing is success.
func deleteNFTTablesIn(c *nsConn, tables ...*nftables.Table) error {
	nft, done, err := nftConnIn(c)
	if err != nil {
		return err
	}
	defer done()
	var errs []error
	for _, t := range tables {
		if err := deleteNFTTable(nft, t); err != nil {
			errs = append(errs, fmt.Errorf("delete nftables table %s: %w", t.Name, err))
		}
	}
	return errors.Join(errs...)
}
