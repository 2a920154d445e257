package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/namespaces"
	"github.com/distribution/reference"
)

// NormalizeImage returns the full name containerd stores an image under, as
// Docker and ECS read a task definition's image: "nginx" and "nginx:latest"
// are "docker.io/library/nginx:latest"; a digest reference keeps its digest.
func NormalizeImage(ref string) (string, error) {
	n, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", err
	}
	return n.String(), nil
}

// image returns the named image ready for the snapshotter: already stored,
// else pulled from its registry (anonymously; over verified TLS and never
// from this machine's loopback, unless the operator listed the registry: see
// registries).
// Every failure reads "CannotPullContainerError: <cause>", as ECS reports it.
func (r *Runtime) image(ctx context.Context, ref string) (containerd.Image, error) {
	name, err := NormalizeImage(ref)
	if err != nil {
		return nil, fmt.Errorf("CannotPullContainerError: invalid image reference %q: %w", ref, err)
	}
	// Tasks that start together share one pull of their image.
	unlock := r.pulls.lock(name)
	defer unlock()
	img, err := r.client.GetImage(ctx, name)
	switch {
	case errdefs.IsNotFound(err):
		if err := r.registries.check(name); err != nil {
			return nil, fmt.Errorf("CannotPullContainerError: pull %s: %w", name, err)
		}
		r.log.Info("pull image", "image", name)
		img, err = r.client.Pull(ctx, name, containerd.WithPullUnpack, containerd.WithPullSnapshotter(r.snapshotter),
			containerd.WithResolver(r.registries.resolver()))
		if err != nil {
			return nil, fmt.Errorf("CannotPullContainerError: %w", err)
		}
		return img, nil
	case err != nil:
		return nil, fmt.Errorf("CannotPullContainerError: %w", err)
	}
	// Imported without unpacking, or unpacked for another snapshotter.
	if ok, err := img.IsUnpacked(ctx, r.snapshotter); err != nil || !ok {
		if err := img.Unpack(ctx, r.snapshotter); err != nil {
			return nil, fmt.Errorf("CannotPullContainerError: unpack %s: %w", name, err)
		}
	}
	return img, nil
}

// ImportImage loads an OCI image layout or `docker save` tarball (what
// `vpcsim image import FILE` reads), unpacks it for the snapshotter, and
// returns the normalized names it stored. An OCI index entry is named by its
// io.containerd.image.name annotation, else by an
// org.opencontainers.image.ref.name that is a full reference; a bare tag
// names nothing. A docker archive is named by its RepoTags.
func (r *Runtime) ImportImage(ctx context.Context, rd io.Reader) ([]string, error) {
	ctx = namespaces.WithNamespace(ctx, r.ns)
	ctx, done, err := r.client.WithLease(ctx)
	if err != nil {
		return nil, err
	}
	defer done(context.WithoutCancel(ctx))
	imported, err := r.client.Import(ctx, rd, containerd.WithImageRefTranslator(refNameToImage))
	if err != nil {
		return nil, fmt.Errorf("import image: %w", err)
	}
	if len(imported) == 0 {
		return nil, errors.New("import image: the archive names no image (no io.containerd.image.name or full org.opencontainers.image.ref.name annotation in index.json, no RepoTags in manifest.json)")
	}
	is := r.client.ImageService()
	var names []string
	for _, im := range imported {
		// Names the archive wrote in short form ("nginx:latest") are stored
		// in full, so task definitions find them.
		if name, err := NormalizeImage(im.Name); err == nil && name != im.Name {
			short := im.Name
			im.Name = name
			if err := putImage(ctx, is, im); err != nil {
				return names, fmt.Errorf("import image: name %s: %w", name, err)
			}
			if err := is.Delete(ctx, short); err != nil && !errdefs.IsNotFound(err) {
				return names, fmt.Errorf("import image: %w", err)
			}
		}
		img, err := r.client.GetImage(ctx, im.Name)
		if err != nil {
			return names, err
		}
		if err := img.Unpack(ctx, r.snapshotter); err != nil {
			return names, fmt.Errorf("import image: unpack %s: %w", im.Name, err)
		}
		names = append(names, im.Name)
	}
	return names, nil
}

// putImage creates the image record or points an existing one at its target.
func putImage(ctx context.Context, is images.Store, im images.Image) error {
	if _, err := is.Update(ctx, im, "target"); err == nil || !errdefs.IsNotFound(err) {
		return err
	}
	_, err := is.Create(ctx, im)
	return err
}

// refNameToImage names an OCI index entry by its
// org.opencontainers.image.ref.name when that is a whole reference
// ("nginx:1.25", "localhost/x:1"): a bare tag ("latest") says no repository.
func refNameToImage(refName string) string {
	if !strings.ContainsAny(refName, ":/@") {
		return ""
	}
	name, err := NormalizeImage(refName)
	if err != nil {
		return ""
	}
	return name
}

// Image is one stored image, as `vpcsim image ls` shows it.
type Image struct {
	Name     string
	Digest   string // of its manifest (or index): ECS's imageDigest
	Size     int64  // bytes of content, compressed
	Created  time.Time
	Unpacked bool // ready to run on the Runtime's snapshotter
}

// ListImages lists the images in vpcsim's namespace by name.
func (r *Runtime) ListImages(ctx context.Context) ([]Image, error) {
	ctx = namespaces.WithNamespace(ctx, r.ns)
	imgs, err := r.client.ListImages(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Image, 0, len(imgs))
	for _, img := range imgs {
		md := img.Metadata()
		i := Image{Name: md.Name, Digest: md.Target.Digest.String(), Created: md.CreatedAt}
		// A size or state that cannot be read (content missing for this
		// platform) leaves the zero value rather than hiding the image.
		i.Size, _ = img.Size(ctx)
		i.Unpacked, _ = img.IsUnpacked(ctx, r.snapshotter)
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}
