package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	ecsrt "github.com/vpcsim/vpcsim/ecsapi/runtime"
)

// imageCmd is `vpcsim image import FILE` and `vpcsim image ls`, on the containerd
// of the data directory (serve's, when it runs; else one started for the call).
func imageCmd(ctx context.Context, args []string, w io.Writer) error {
	if len(args) == 0 {
		return usageError{"image needs import FILE or ls"}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("image "+sub, flag.ContinueOnError)
	dataDir := fs.String("data-dir", env("VPCSIM_DATA_DIR", defaultDataDir()), "data directory of the vpcsim whose images these are")
	var ctrd containerdFlags
	ctrd.add(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	rt, err := ecsrt.New(ctx, *dataDir, ctrd.options()...)
	if err != nil {
		return err
	}
	defer rt.Close()
	switch sub {
	case "import":
		if fs.NArg() != 1 {
			return usageError{"image import needs one FILE (an OCI or docker-archive tarball)"}
		}
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		names, err := rt.ImportImage(ctx, f)
		if err != nil {
			return err
		}
		for _, n := range names {
			fmt.Fprintln(w, "imported", n)
		}
		return nil
	case "ls":
		images, err := rt.ListImages(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tDIGEST\tSIZE\tCREATED")
		for _, im := range images {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", im.Name, im.Digest, im.Size, im.Created.UTC().Format("2006-01-02T15:04:05Z"))
		}
		return tw.Flush()
	}
	return usageError{fmt.Sprintf("unknown image command %q", sub)}
}
