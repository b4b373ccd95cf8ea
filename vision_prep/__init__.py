"""Image and video preparation for early-fusion pretraining. Plain Python/NumPy/Pillow, no Spark.

- `decode`: untrusted bytes -> upright RGB Pillow image, or `ImageRejected` with a stable reason
  (pixel limit checked from the header before decoding, truncation detected, alpha onto white).
- `tiling`: Llama 4 tiling (336x336 tiles, up to 16 plus a global tile), "exact" and "fast" modes.
- `patches`: tiles <-> flattened 14x14 ViT patches.
- `hashes`: 64-bit perceptual hashes of images (pHash) and video frames (dHash), `hamming`.
- `video`: frames sampled from untrusted video files with PyAV (`video_decode` holds the
  samplers, `video_info` what they return); `subtitles`: WebVTT and SRT cues.

Submodules are imported explicitly (`from vision_prep.tiling import plan`) so importing the
package stays cheap.
"""
