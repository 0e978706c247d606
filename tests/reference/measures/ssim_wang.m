function mssim = ssim_wang(img1, img2)
% Wang et al. 2004 SSIM as in Wang's ssim_index.m, written for derain-bench's references:
% 11x11 Gaussian (sigma 1.5) normalised, K = [0.01 0.03], L = 255, 'valid' filter2, no downsampling.
window = fspecial('gaussian', 11, 1.5);
window = window / sum(window(:));
C1 = (0.01 * 255)^2;
C2 = (0.03 * 255)^2;
img1 = double(img1);
img2 = double(img2);
mu1 = filter2(window, img1, 'valid');
mu2 = filter2(window, img2, 'valid');
s11 = filter2(window, img1 .* img1, 'valid') - mu1 .* mu1;
s22 = filter2(window, img2 .* img2, 'valid') - mu2 .* mu2;
s12 = filter2(window, img1 .* img2, 'valid') - mu1 .* mu2;
map = ((2 * mu1 .* mu2 + C1) .* (2 * s12 + C2)) ./ ((mu1 .^ 2 + mu2 .^ 2 + C1) .* (s11 + s22 + C2));
mssim = mean(map(:));
end
