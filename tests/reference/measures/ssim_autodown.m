function mssim = ssim_autodown(img1, img2)
% Wang's "SSIM with automatic downsampling" (ssim.m, 2009; the file PReNet ships), written for
% derain-bench's references: f = max(1, round(min(M,N)/256)); if f > 1, average with an f-by-f
% box (imfilter 'symmetric', 'same') and keep every f-th pixel; then ssim_wang.
[M, N] = size(img1);
f = max(1, round(min(M, N) / 256));
img1 = double(img1);
img2 = double(img2);
if f > 1
  lpf = ones(f, f) / (f * f);
  img1 = imfilter(img1, lpf, 'symmetric', 'same');
  img2 = imfilter(img2, lpf, 'symmetric', 'same');
  img1 = img1(1:f:end, 1:f:end);
  img2 = img2(1:f:end, 1:f:end);
end
mssim = ssim_wang(img1, img2);
end
