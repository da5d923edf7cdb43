package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pngBytes encodes a w×h gray image whose pixel (x, y) is base+x+w·y.
func pngBytes(w, h int, base uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = base + uint8(i)
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func jpegBytes(w, h int, c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
	return b.Bytes()
}

// imageTree writes files (path -> bytes) under a fresh directory.
func imageTree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, "img", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const imagesConfig = "name: t\ndata:\n  source: images:img\n  preprocess: {scale: none}\n  split: {train: 1, val: 0, test: 0}\n"

func loadImagesTree(t *testing.T, yaml string, files map[string][]byte) (*Dataset, *Report, error) {
	t.Helper()
	dir := imageTree(t, files)
	exp, err := experiment(t, dir, yaml)
	if err != nil {
		return nil, nil, err
	}
	return Load(exp)
}

// TestImages reads class folders channel-first, resizes and converts.
func TestImages(t *testing.T) {
	files := map[string][]byte{
		"cat/a.png": pngBytes(2, 2, 10), "cat/b.PNG": pngBytes(2, 2, 20),
		"dog/c.png": pngBytes(2, 2, 30), "dog/.DS_Store": []byte("junk"),
	}
	ds, rep, err := loadImagesTree(t, imagesConfig, files)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Classes, []string{"cat", "dog"}) || !slices.Equal(ds.Input, []int{1, 2, 2}) {
		t.Fatalf("classes %v input %v", ds.Classes, ds.Input)
	}
	if !slices.Equal(ds.Train.X, []float32{10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33}) || !slices.Equal(ds.Train.Y, []float32{0, 0, 1}) {
		t.Errorf("X %v Y %v", ds.Train.X, ds.Train.Y)
	}
	if !slices.Equal(ds.Train.Names, []string{"cat/a.png", "cat/b.PNG", "dog/c.png"}) {
		t.Errorf("names %v", ds.Train.Names)
	}
	if n := rep.Notes; len(n) < 2 || n[1] != "skipped 1 hidden file" {
		t.Errorf("notes %q", n)
	}

	// Resize a 4×4 gradient to 2×2: each output pixel averages a 2×2 block.
	ds, _, err = loadImagesTree(t, imagesConfig+"  images: {size: [2, 2]}\n", map[string][]byte{"a/x.png": pngBytes(4, 4, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{2.5, 4.5, 10.5, 12.5}; !slices.Equal(ds.Train.X, want) {
		t.Errorf("resized %v, want %v", ds.Train.X, want)
	}

	// RGB from a JPEG: three planes.
	ds, _, err = loadImagesTree(t, imagesConfig+"  images: {color: rgb}\n", map[string][]byte{"a/x.jpg": jpegBytes(2, 2, color.RGBA{200, 100, 50, 255})})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Input, []int{3, 2, 2}) || abs32(ds.Train.X[0]-200) > 3 || abs32(ds.Train.X[4]-100) > 3 || abs32(ds.Train.X[8]-50) > 3 {
		t.Errorf("rgb input %v X %v", ds.Input, ds.Train.X)
	}
	// data.classes sets the order.
	ds, _, err = loadImagesTree(t, imagesConfig+"  classes: [dog, cat]\n", files)
	if err != nil || !slices.Equal(ds.Train.Y, []float32{0, 1, 1}) {
		t.Errorf("classes order: %v %v", err, ds.Train.Y)
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// TestImagesBadInput: a truncated or corrupt PNG, an empty class, a stray
// file, mixed sizes are refused, naming the file or folder.
func TestImagesBadInput(t *testing.T) {
	good := pngBytes(3, 3, 0)
	for _, tc := range []struct {
		name   string
		config string
		files  map[string][]byte
		want   []string
	}{
		{"truncated PNG", imagesConfig, map[string][]byte{"a/x.png": good, "b/y.png": good[:len(good)/2]}, []string{"b/y.png", "cannot decode the image (corrupt or truncated?)"}},
		{"corrupt PNG", imagesConfig, map[string][]byte{"a/x.png": good, "b/y.png": []byte("\x89PNG\r\n\x1a\nnot really")}, []string{"b/y.png", "cannot decode"}},
		{"JPEG named .png", imagesConfig, map[string][]byte{"a/x.png": jpegBytes(2, 2, color.RGBA{})}, []string{"a/x.png", "cannot decode"}},
		{"empty class", imagesConfig, map[string][]byte{"a/x.png": good, "b/.keep": nil}, []string{"img/b", `class folder "b" holds no images`}},
		{"stray file", imagesConfig, map[string][]byte{"a/x.png": good, "a/notes.txt": []byte("hi")}, []string{"a/notes.txt", "is not a PNG or JPEG file"}},
		{"file beside the classes", imagesConfig, map[string][]byte{"a/x.png": good, "README": []byte("hi")}, []string{"img/README", "expected only class folders"}},
		{"nested folder", imagesConfig, map[string][]byte{"a/x.png": good, "a/deeper/y.png": good}, []string{"a/deeper", "is a folder inside a class folder"}},
		{"sizes differ", imagesConfig, map[string][]byte{"a/x.png": good, "b/y.png": pngBytes(4, 3, 0)}, []string{"b/y.png", "is 3×4", "is 3×3", "data.images.size"}},
		{"no class folders", imagesConfig, map[string][]byte{".hidden": nil}, []string{"holds no class folders"}},
		{"class missing", imagesConfig + "  classes: [a, zebra]\n", map[string][]byte{"a/x.png": good}, []string{`no folder for class "zebra"`}},
		{"resized too large", imagesConfig + "  images: {size: [200000, 200000]}\n", map[string][]byte{"a/x.png": good}, []string{"data.images.size", "200000×200000 is 40,000,000,000 pixels"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := loadImagesTree(t, tc.config, tc.files)
			wantBadData(t, err, tc.want...)
		})
	}
	exp, _ := experiment(t, t.TempDir(), imagesConfig)
	_, _, err := Load(exp)
	wantBadData(t, err, "img", "cannot read the image folder")
}

// TestImageInputUnknownExtension: predict given one file of a kind no
// decoder reads (digit.gif) says so, naming the file and the extensions;
// it called a nil decoder and crashed.
func TestImageInputUnknownExtension(t *testing.T) {
	dir := imageTree(t, map[string][]byte{"a/x.png": pngBytes(3, 3, 0), "b/y.png": pngBytes(3, 3, 9)})
	exp, err := experiment(t, dir, imagesConfig)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	gif := filepath.Join(dir, "digit.gif")
	os.WriteFile(gif, []byte("GIF89a"), 0o644)
	_, err = ReadInputs(exp, &ds.Meta, gif)
	wantBadData(t, err, gif, "is not an image dltrain reads (expected .jpeg, .jpg, .png)")
}

// TestImageNotesNameFiles: the notes on duplicate images and on images in
// two splits name the image files, not entry numbers.
func TestImageNotesNameFiles(t *testing.T) {
	files := map[string][]byte{}
	for i := 0; i < 8; i++ {
		files[fmt.Sprintf("cat/%d.png", i)] = pngBytes(2, 2, 10) // all alike
		files[fmt.Sprintf("dog/%d.png", i)] = pngBytes(2, 2, uint8(100+10*i))
	}
	cfg := "name: t\ndata:\n  source: images:img\n  split: {train: 0.5, val: 0.25, test: 0.25}\n"
	_, rep, err := loadImagesTree(t, cfg, files)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(rep.Notes, "\n")
	for _, want := range []string{"7 rows identical to an earlier row, kept (data.clean.duplicates: drop removes them): files cat/1.png, cat/2.png",
		"with the same features as a training sample (a possible leak): file"} {
		if !strings.Contains(notes, want) {
			t.Errorf("no %q in the notes:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "entr") {
		t.Errorf("a note names entries:\n%s", notes)
	}
	_, _, err = loadImagesTree(t, strings.Replace(cfg, "split:", "clean: {duplicates: error}\n  split:", 1), files)
	wantBadData(t, err, filepath.Join("img", "cat", "1.png")+": the row is identical to the row at file cat/0.png")
}

// TestImageTransparencyOverBlack: a pixel's alpha is composed over black
// (what the README says): half-transparent white reads 128 in every
// channel, fully transparent reads 0.
func TestImageTransparencyOverBlack(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	img.SetNRGBA(0, 0, color.NRGBA{255, 255, 255, 128})
	img.SetNRGBA(1, 0, color.NRGBA{255, 255, 255, 0})
	var b bytes.Buffer
	png.Encode(&b, img)
	for _, tc := range []struct {
		color string
		want  []float32
	}{{"grayscale", []float32{128, 0}}, {"rgb", []float32{128, 0, 128, 0, 128, 0}}} {
		t.Run(tc.color, func(t *testing.T) {
			cfg := strings.Replace(imagesConfig, "source: images:img", "source: images:img\n  images: {color: "+tc.color+"}", 1)
			ds, _, err := loadImagesTree(t, cfg, map[string][]byte{"a/x.png": b.Bytes()})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ds.Train.X, tc.want) {
				t.Errorf("pixels %v, want %v", ds.Train.X, tc.want)
			}
		})
	}
}

// hugeHeader returns a small, valid image file of kind ext (".png" or
// ".jpg") whose header claims w×h pixels: a PNG's IHDR (checksum
// recomputed) or a JPEG's SOF0 frame patched.
func hugeHeader(t *testing.T, ext string, w, h int) []byte {
	t.Helper()
	if ext == ".png" {
		b := pngBytes(1, 1, 0)
		// signature (8), IHDR length (4), "IHDR" (4), width, height, ..., CRC at 29.
		binary.BigEndian.PutUint32(b[16:], uint32(w))
		binary.BigEndian.PutUint32(b[20:], uint32(h))
		binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
		return b
	}
	b := jpegBytes(8, 8, color.RGBA{R: 9, A: 255})
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker in the JPEG")
	}
	binary.BigEndian.PutUint16(b[i+5:], uint16(h))
	binary.BigEndian.PutUint16(b[i+7:], uint16(w))
	return b
}

// TestImagesOfAbsurdSizeAreRefusedBeforeDecoding: an image file whose
// header claims more than maxImagePixels (a 68-byte PNG claiming
// 200000×200000) is refused from its header, naming the file, in a
// training folder and in predict's inputs; decoding it would allocate
// gigabytes before finding the data missing.
func TestImagesOfAbsurdSizeAreRefusedBeforeDecoding(t *testing.T) {
	for _, c := range []struct {
		ext  string
		w, h int
		want string
	}{
		{".png", 200000, 200000, "200000×200000"},
		{".jpg", 65535, 65535, "65535×65535"},
	} {
		t.Run(c.ext, func(t *testing.T) {
			huge := hugeHeader(t, c.ext, c.w, c.h)
			_, _, err := loadImagesTree(t, imagesConfig, map[string][]byte{"a/x.png": pngBytes(3, 3, 0), "b/huge" + c.ext: huge})
			wantBadData(t, err, "b/huge"+c.ext, c.want, "268,435,456")

			dir := imageTree(t, map[string][]byte{"a/x.png": pngBytes(3, 3, 0), "b/y.png": pngBytes(3, 3, 9)})
			exp, err := experiment(t, dir, imagesConfig)
			if err != nil {
				t.Fatal(err)
			}
			ds, _, err := Load(exp)
			if err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(t.TempDir(), "new")
			os.MkdirAll(in, 0o755)
			file := filepath.Join(in, "huge"+c.ext)
			os.WriteFile(file, huge, 0o644)
			for _, path := range []string{file, in} {
				_, err = ReadInputs(exp, &ds.Meta, path)
				wantBadData(t, err, file, c.want)
			}
		})
	}
}
