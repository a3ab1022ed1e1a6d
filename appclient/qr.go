package appclient

import (
	"image"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// ScanQR returns the text of the QR code in img: found anywhere in the
// image, as in a photo or a screenshot, or else read as the whole image,
// as the PNG a Lanyard server serves is. The finder-pattern search misses
// a few symbols in a thousand that the whole-image reading gets.
func ScanQR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	result, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err == nil {
		return result.GetText(), nil
	}
	pure, perr := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if perr != nil {
		return "", err
	}
	return pure.GetText(), nil
}
