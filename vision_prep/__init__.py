"""Image and video preparation: safe decoding, Llama-4 tiling, perceptual hashes, frame sampling.

No Spark here. The modules arrive with the images issue (tiling, decoding) and the video
issue (frame sampling); the package exists now because the project's layout is fixed.
"""
