package ec2

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim"
	"github.com/vpcsim/vpcsim/vpcsim/hostpath"
)

// Where records go, below the data directory (WithDataDir):
//
//	flowlogs/cloud-watch-logs/GROUP/ENI-all.log    one file per log stream, named as AWS names the stream
//	s3/BUCKET/PREFIX/AWSLogs/ACCOUNT/vpcflowlogs/REGION/YYYY/MM/DD/ACCOUNT_vpcflowlogs_REGION_FLID_YYYYMMDDTHHmmZ_HASH.log
//	flowlogs/firehose/STREAM/YYYY/MM/DD/ACCOUNT_vpcflowlogs_REGION_FLID_YYYYMMDDTHHmmZ_HASH.log
//
// and a `file` flow log appends to its own LogDestination, which lies below
// flowlogs/file or below a directory opened with --host-path (fileRoot). An
// S3 or Firehose file is one flush of one flow log, as an S3 object is one
// delivery; S3 and `file` files start with the line of field names that AWS's
// S3 files start with. The files are plain text, where AWS's S3 objects are
// gzipped. Every file and directory is opened beneath its root without
// following a symbolic link (package hostpath): one planted in the tree makes
// the flow log's delivery fail, it is never written through.

// flowOutput is one file and the records a flush appends to it.
type flowOutput struct {
	root   hostpath.Root
	path   string // beneath root
	logID  string
	header string // the first line of a new file; "" = none
	lines  []string
}

// keeps says whether a flow log of this TrafficType writes the record. A
// SKIPDATA record stands for packets of any action, so every flow log writes it.
func keeps(trafficType string, l *flowLine) bool {
	switch {
	case l.status != "OK" || trafficType == "ALL":
		return true
	case trafficType == "ACCEPT":
		return l.key.Accept
	}
	return !l.key.Accept
}

// writeFlowLines writes each record, in order, to every flow log of its ENI
// that keeps it, and remembers per flow log whether its writes failed, for
// DescribeFlowLogs's DeliverLogsStatus.
func (c *Cloud) writeFlowLines(lines []flowLine) {
	r := &c.flowLogs.rec
	now := c.now().UTC()
	outs := map[string]*flowOutput{} // by full path
	var order []string
	objects := map[string]string{} // flow log → the file its S3 or Firehose records of this flush go to
	dropped, refused := map[string]bool{}, map[string]bool{}
	for i := range lines {
		l := lines[i]
		for j := range l.eni.Logs {
			f := &l.eni.Logs[j]
			if !keeps(f.TrafficType, &l) {
				continue
			}
			root, path := r.path(f, l.eni.ID, now, objects)
			switch {
			case path == "" && f.LogDestinationType == FlowDestFile:
				// Its directory is no longer opened (serve restarted
				// without that --host-path): a delivery that fails.
				refused[f.ID] = true
				continue
			case path == "":
				dropped[f.ID] = true
				continue
			}
			// A stored format was checked when its flow log was made.
			format, _ := parseFlowFormat(f.LogFormat)
			key := filepath.Join(root.Dir(), path)
			o := outs[key]
			if o == nil {
				o = &flowOutput{root: root, path: path, logID: f.ID}
				if f.LogDestinationType == FlowDestS3 || f.LogDestinationType == FlowDestFile {
					o.header = format.header()
				}
				outs[key] = o
				order = append(order, key)
			}
			l.version, l.region = format.version, f.Region
			o.lines = append(o.lines, l.render(format))
		}
	}
	failures := map[string]error{}
	wrote := map[string]bool{}
	for id := range refused {
		failures[id], wrote[id] = hostpath.ErrOutside, true
	}
	for _, p := range order {
		o := outs[p]
		if err := o.write(); err != nil {
			failures[o.logID] = errors.Join(failures[o.logID], err)
		}
		wrote[o.logID] = true
	}
	c.noteDelivery(wrote, failures, dropped)
}

// noteDelivery records which flow logs' writes failed and logs what changed:
// a flow log that starts or stops failing, and (once) one whose records are
// dropped because there is no flow log directory.
func (c *Cloud) noteDelivery(wrote map[string]bool, failures map[string]error, dropped map[string]bool) {
	r := &c.flowLogs.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed == nil {
		r.failed, r.warned = map[string]string{}, map[string]bool{}
	}
	for id := range wrote {
		err, was := failures[id], r.failed[id]
		switch {
		case err == nil && was != "":
			delete(r.failed, id)
			c.log.Info("flow log records are written again", "flowLog", id)
		case err != nil:
			r.failed[id] = deliveryError(err)
			if was == "" {
				c.log.Warn("write flow log records", "flowLog", id, "err", err)
			}
		}
	}
	for id := range dropped {
		if !r.warned[id] {
			r.warned[id] = true
			c.log.Warn("flow log records are dropped: vpcsim has no flow log directory", "flowLog", id)
		}
	}
}

// deliveryError words a failed write as DeliverLogsErrorMessage does.
func deliveryError(err error) string {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, hostpath.ErrSymlink) || errors.Is(err, hostpath.ErrNotRegular) ||
		errors.Is(err, hostpath.ErrOutside) {
		return "Access error"
	}
	return "Unknown error"
}

// path is the file a flow log's record of an ENI goes to in the flush at now,
// and the root it lies beneath; "" when it is not written. objects keeps each
// flow log's S3 or Firehose file of the flush.
func (r *flowRecorder) path(f *FlowLog, eni string, now time.Time, objects map[string]string) (hostpath.Root, string) {
	if f.LogDestinationType == FlowDestFile {
		root, rel, _ := r.fileRoot(f.LogDestination)
		return root, rel
	}
	if r.data.Dir() == "" {
		return hostpath.Root{}, ""
	}
	day := now.Format("2006/01/02")
	switch f.LogDestinationType {
	case FlowDestCloudWatch:
		return r.data, filepath.Join(under("flowlogs/cloud-watch-logs", f.LogGroupName), eni+"-all.log")
	case FlowDestS3:
		bucket, prefix, _ := s3Destination(f.LogDestination)
		return r.data, filepath.Join(under(vpcsim.S3Dir, bucket, prefix, "AWSLogs", f.OwnerID, "vpcflowlogs", f.Region, day), objectName(f, now, objects))
	case FlowDestFirehose:
		return r.data, filepath.Join(under("flowlogs/firehose", firehoseStream(f.LogDestination), day), objectName(f, now, objects))
	}
	return hostpath.Root{}, ""
}

// fileTree is where `file` flow logs may write in the data directory.
const fileTree = "flowlogs/file"

// fileRoot is where a `file` flow log's destination lies: below the data
// directory's flowlogs/file, or below a directory the operator opened; the
// root and the path below it. ok is false when it lies below neither.
func (r *flowRecorder) fileRoot(dest string) (root hostpath.Root, rel string, ok bool) {
	roots := r.opened
	if r.data.Dir() != "" {
		files, _ := hostpath.NewRoot(filepath.Join(r.data.Dir(), fileTree))
		roots = append([]hostpath.Root{files}, roots...)
	}
	root, rel, ok = hostpath.Find(roots, dest)
	if ok && r.data.Dir() != "" && root.Dir() == filepath.Join(r.data.Dir(), fileTree) {
		// Written beneath the data directory, which makes flowlogs/file.
		return r.data, filepath.Join(fileTree, rel), true
	}
	return root, rel, ok
}

// objectName names a flow log's file of one flush as AWS names its S3 objects.
func objectName(f *FlowLog, now time.Time, objects map[string]string) string {
	if name, ok := objects[f.ID]; ok {
		return name
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := fmt.Sprintf("%s_vpcflowlogs_%s_%s_%s_%s.log", f.OwnerID, f.Region, f.ID, now.Format("20060102T1504Z"), hex.EncodeToString(b))
	objects[f.ID] = name
	return name
}

// under joins path parts taken from requests (group, bucket, prefix, stream)
// below base, so that no ".." in them leads out of it.
func under(base string, parts ...string) string {
	return filepath.Join(base, filepath.Clean("/"+filepath.Join(parts...)))
}

// write appends the output's records to its file, making the file (with its
// header) and its directories beneath its root as needed.
func (o *flowOutput) write() error {
	if err := o.root.MkdirAll(filepath.Dir(o.path), 0o755); err != nil {
		return err
	}
	f, err := o.root.OpenFile(o.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if o.header != "" {
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		if st.Size() == 0 {
			b.WriteString(o.header + "\n")
		}
	}
	for _, l := range o.lines {
		b.WriteString(l + "\n")
	}
	_, err = f.Write(b.Bytes())
	return errors.Join(err, f.Close())
}
