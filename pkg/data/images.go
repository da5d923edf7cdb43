package data

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// imagesSource reads a folder of images (images:DIR) with one subfolder
// per class, PNG or JPEG files inside.
var imagesSource = sourceKind{
	tasks:   []string{"classification"},
	options: []string{"classes", "images.size", "images.color"},
	digest:  imageDigest,
	load:    loadImages,
	check: func(e *config.Experiment, _ string) config.Problems {
		ps := arrayCheck(e)
		if s := e.Data.Images.Size; len(s) == 2 && s[0] > 0 && s[1] > 0 && int64(s[0])*int64(s[1]) > maxImagePixels {
			ps = append(ps, e.Problem("data.images.size", "%d×%d is %s pixels per image, above dltrain's limit of %s (16384×16384)",
				s[0], s[1], thousands(int64(s[0])*int64(s[1])), thousands(maxImagePixels)))
		}
		return ps
	},
}

// imageCodec reads one image format: its header alone, or the whole
// image.
type imageCodec struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

// imageKinds maps the accepted file extensions to their codec.
var imageKinds = map[string]imageCodec{
	".png":  {png.DecodeConfig, png.Decode},
	".jpg":  {jpeg.DecodeConfig, jpeg.Decode},
	".jpeg": {jpeg.DecodeConfig, jpeg.Decode},
}

// maxImagePixels bounds the width × height an image file may claim
// (2^28, e.g. 16384×16384): decoding allocates the whole image before
// reading its pixels, so a header claiming more, true or forged, is
// refused before decoding (docs/limits.md).
const maxImagePixels = 1 << 28

// imageFile is one image of the folder.
type imageFile struct {
	rel   string // path relative to the folder, e.g. "3/img01.png"
	class int
}

// listImages walks a class folder tree: every non-hidden entry of dir must
// be a folder, every non-hidden entry of those an image file.
func listImages(dir string, known []string) ([]imageFile, []string, int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, 0, badFile(dir, "cannot read the image folder: %v", unwrapPath(err))
	}
	hidden := 0
	var classes []string
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "."):
			hidden++
		case !e.IsDir():
			return nil, nil, 0, badFile(filepath.Join(dir, e.Name()), "is a file; expected only class folders in %s (one folder per class, images inside)", dir)
		default:
			classes = append(classes, e.Name())
		}
	}
	if len(classes) == 0 {
		return nil, nil, 0, badFile(dir, "holds no class folders; expected one folder per class with PNG or JPEG images inside")
	}
	if len(known) > 0 {
		for _, c := range known {
			if !slices.Contains(classes, c) {
				return nil, nil, 0, badFile(dir, "has no folder for class %q of data.classes; its folders are: %s", c, strings.Join(classes, ", "))
			}
		}
		for _, c := range classes {
			if !slices.Contains(known, c) {
				return nil, nil, 0, badFile(filepath.Join(dir, c), "is not one of data.classes (%s)", strings.Join(known, ", "))
			}
		}
		classes = known
	}
	var out []imageFile
	for k, c := range classes {
		entries, err := os.ReadDir(filepath.Join(dir, c))
		if err != nil {
			return nil, nil, 0, badFile(filepath.Join(dir, c), "cannot read: %v", unwrapPath(err))
		}
		n := 0
		for _, e := range entries {
			rel := filepath.Join(c, e.Name())
			switch {
			case strings.HasPrefix(e.Name(), "."):
				hidden++
				continue
			case e.IsDir():
				return nil, nil, 0, badFile(filepath.Join(dir, rel), "is a folder inside a class folder; expected only image files there")
			case imageKinds[strings.ToLower(filepath.Ext(e.Name()))].decode == nil:
				return nil, nil, 0, badFile(filepath.Join(dir, rel), "is not a PNG or JPEG file; expected only .png, .jpg or .jpeg files in class folders")
			}
			out = append(out, imageFile{rel: rel, class: k})
			n++
		}
		if n == 0 {
			return nil, nil, 0, badFile(filepath.Join(dir, c), "class folder %q holds no images", c)
		}
	}
	return out, classes, hidden, nil
}

// imageDigest checksums an image folder: one entry whose sha256 covers
// every file's path and contents.
func imageDigest(dir string, d config.Data) ([]SourceFile, error) {
	files, _, _, err := listImages(dir, d.Classes)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	var total int64
	for _, f := range files {
		sf, err := fileDigest(filepath.Join(dir, f.rel))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s  %s\n", sf.SHA256, filepath.ToSlash(f.rel))
		total += sf.Bytes
	}
	return []SourceFile{{Path: dir, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: total}}, nil
}

// decodeImage reads one image file; an extension without a decoder (a
// single file given to predict is not listed first) is an error naming
// the file and the extensions read. The header is read first: an image
// claiming more than maxImagePixels is refused before it is decoded.
func decodeImage(path string) (image.Image, error) {
	codec := imageKinds[strings.ToLower(filepath.Ext(path))]
	if codec.decode == nil {
		return nil, badFile(path, "is not an image dltrain reads (expected %s)", imageExtensions())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	defer f.Close()
	cfg, err := codec.config(bufio.NewReader(f))
	if err != nil {
		return nil, badFile(path, "cannot decode the image header (corrupt or truncated?): %v", err)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxImagePixels {
		return nil, badFile(path, "the header claims %d×%d (width×height) = %s pixels, above dltrain's limit of %s (16384×16384); "+
			"downscale the image (data.images.size resizes only after decoding)", cfg.Width, cfg.Height, thousands(px), thousands(maxImagePixels))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	img, err := codec.decode(bufio.NewReader(f))
	if err != nil {
		return nil, badFile(path, "cannot decode the image (corrupt or truncated?): %v", err)
	}
	if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 {
		return nil, badFile(path, "the image is empty (%d×%d)", b.Dx(), b.Dy())
	}
	return img, nil
}

// loadImages decodes every image, converts it to grayscale or RGB, resizes
// it to data.images.size, and stores it channel-first ([C, H, W], values
// 0–255).
func loadImages(exp *config.Experiment, dir string, rep *Report) (*Dataset, error) {
	d := exp.Data
	files, classes, hidden, err := listImages(dir, d.Classes)
	if err != nil {
		return nil, err
	}
	channels := 1
	if d.Images.Color == "rgb" {
		channels = 3
	}
	var H, W int
	if len(d.Images.Size) == 2 {
		H, W = d.Images.Size[0], d.Images.Size[1]
	}
	var x []float32
	f := &frame{file: dir, entries: true, targets: []string{"class"}, missing: map[int]cellPos{},
		yv: make([]float32, len(files)), lines: make([]int, len(files)), names: make([]string, len(files))}
	resized := 0
	var first string
	for i, file := range files {
		path := filepath.Join(dir, file.rel)
		img, err := decodeImage(path)
		if err != nil {
			return nil, err
		}
		b := img.Bounds()
		if H == 0 {
			H, W, first = b.Dy(), b.Dx(), file.rel
		}
		if x == nil {
			x = make([]float32, len(files)*channels*H*W)
		}
		if b.Dy() != H || b.Dx() != W {
			if len(d.Images.Size) == 0 {
				return nil, badFile(path, "is %d×%d (height×width) but %s is %d×%d; set data.images.size to resize every image to one size", b.Dy(), b.Dx(), first, H, W)
			}
			resized++
		}
		pixels(img, channels, H, W, x[i*channels*H*W:(i+1)*channels*H*W])
		f.yv[i], f.lines[i], f.names[i] = float32(file.class), i+1, filepath.ToSlash(file.rel)
	}
	f.x, f.width, f.shape = x, channels*H*W, []int{channels, H, W}
	counts := make([]string, len(classes))
	per := make([]int, len(classes))
	for _, file := range files {
		per[file.class]++
	}
	for k, c := range classes {
		counts[k] = fmt.Sprintf("%s %d", c, per[k])
	}
	rep.add("read %d images in %d classes from %s, as %s %d×%d: %s", len(files), len(classes), dir,
		d.Images.Color, H, W, strings.Join(counts, ", "))
	if resized > 0 {
		rep.add("resized %d images to %d×%d (bilinear)", resized, H, W)
	}
	if hidden > 0 {
		rep.add("skipped %s", nouns(hidden, "hidden file"))
	}
	ds, err := buildTableArrays(exp, f, rep)
	if err != nil {
		return nil, err
	}
	ds.Classes = classes
	return ds, nil
}

// pixels writes an image as channels planes of H×W values in 0–255,
// resampled bilinearly (pixel centres aligned) when its size differs.
// Grayscale uses ITU-R 601 luma weights (Go's color.GrayModel); transparent
// pixels are composed over black.
func pixels(img image.Image, channels, H, W int, dst []float32) {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	src := make([]float32, channels*h*w)
	if g, ok := img.(*image.Gray); ok && channels == 1 {
		for y := 0; y < h; y++ {
			row := g.Pix[y*g.Stride : y*g.Stride+w]
			for xx, v := range row {
				src[y*w+xx] = float32(v)
			}
		}
	} else {
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				c := img.At(b.Min.X+xx, b.Min.Y+y)
				if channels == 1 {
					src[y*w+xx] = float32(color.GrayModel.Convert(c).(color.Gray).Y)
					continue
				}
				r, g, bl, _ := c.RGBA()
				src[y*w+xx] = float32(r >> 8)
				src[h*w+y*w+xx] = float32(g >> 8)
				src[2*h*w+y*w+xx] = float32(bl >> 8)
			}
		}
	}
	if h == H && w == W {
		copy(dst, src)
		return
	}
	for c := 0; c < channels; c++ {
		resize(src[c*h*w:(c+1)*h*w], h, w, dst[c*H*W:(c+1)*H*W], H, W)
	}
}

// resize resamples one plane bilinearly, sampling source pixel centres
// (as OpenCV's INTER_LINEAR).
func resize(src []float32, h, w int, dst []float32, H, W int) {
	coord := func(o, in, out int) (int, int, float32) {
		s := (float64(o)+0.5)*float64(in)/float64(out) - 0.5
		s = math.Max(s, 0)
		i0 := int(s)
		i1 := min(i0+1, in-1)
		return i0, i1, float32(s - float64(i0))
	}
	for y := 0; y < H; y++ {
		y0, y1, fy := coord(y, h, H)
		for x := 0; x < W; x++ {
			x0, x1, fx := coord(x, w, W)
			top := src[y0*w+x0]*(1-fx) + src[y0*w+x1]*fx
			bot := src[y1*w+x0]*(1-fx) + src[y1*w+x1]*fx
			dst[y*W+x] = top*(1-fy) + bot*fy
		}
	}
}

// thousands writes n >= 0 with comma separators: 268,435,456.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
