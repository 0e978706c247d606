function row = fr_values(out_path, gt_path)
% Per-image Y-PSNR / Y-SSIM of one output/ground-truth pair under both protocols:
%  prenet: PReNet statistic_rain100H.m -- im2double, rgb2ycbcr, float Y; psnr.m (peak 1 on Y/255,
%          MSE = sum(e.^2)/(m*n)); ssim on Y*255.
%  mprnet: MPRNet evaluate_PSNR_SSIM.m -- rgb2ycbcr on the uint8 image (Y rounded to uint8);
%          PSNR = 20*log10(255/rmse); the same Wang SSIM on double(Y).
x8 = imread(out_path);
g8 = imread(gt_path);
x = rgb2ycbcr(im2double(x8)); x = x(:, :, 1);
g = rgb2ycbcr(im2double(g8)); g = g(:, :, 1);
e = x - g;
[m, n] = size(e);
psnr_prenet = 10 * log10(1 / (sum(sum(e .^ 2)) / (m * n)));
ssim_prenet = ssim_wang(x * 255, g * 255);
xu = rgb2ycbcr(x8); xu = double(xu(:, :, 1));
gu = rgb2ycbcr(g8); gu = double(gu(:, :, 1));
d = xu(:) - gu(:);
psnr_mprnet = 20 * log10(255 / sqrt(mean(d .^ 2)));
ssim_mprnet = ssim_wang(xu, gu);
row = [psnr_prenet, ssim_prenet, psnr_mprnet, ssim_mprnet];
end
