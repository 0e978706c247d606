% Octave: per-image Y-PSNR / Y-SSIM references for derain-bench's tests (see README.md).
% Usage (from this folder):  octave-cli make_fr_reference.m <shared_data_dir>
pkg load image
args = argv();
data = args{1};
here = fileparts(mfilename('fullpath'));
header = 'image,psnr_y_prenet,ssim_y_prenet,psnr_y_mprnet,ssim_y_mprnet\n';

% (a) Rain100H rainy input vs ground truth, all 100 pairs (rain/norain-N.png vs norain/norain-N.png)
f = fopen(fullfile(here, 'octave_rain100h_rainy.csv'), 'w');
fprintf(f, header);
for i = 1:100
  name = sprintf('norain-%d.png', i);
  r = fr_values(fullfile(data, 'rain100h', 'rain', name), fullfile(data, 'rain100h', 'norain', name));
  fprintf(f, '%s,%.10f,%.10f,%.10f,%.10f\n', name, r);
end
fclose(f);

% (b) official PReNet (Rain100H checkpoint) outputs vs ground truth
f = fopen(fullfile(here, 'octave_prenet_outputs.csv'), 'w');
fprintf(f, header);
outs = dir(fullfile(here, 'prenet_outputs', '*.png'));
for k = 1:numel(outs)
  name = outs(k).name;
  r = fr_values(fullfile(here, 'prenet_outputs', name), fullfile(data, 'rain100h', 'norain', name));
  fprintf(f, '%s,%.10f,%.10f,%.10f,%.10f\n', name, r);
end
fclose(f);

% (c) SSIM-Y (float Y) with Wang's automatic downsampling on the 512x384 TID2013 pairs (f = 2):
%     the literal behaviour of PReNet's statistic/ssim.m on images with a short side >= 384 px.
f = fopen(fullfile(here, 'octave_ssim_autodown.csv'), 'w');
fprintf(f, 'image,ssim_y_autodown,ssim_y_prenet\n');
for n = {'I03', 'I04', 'I06', 'I08', 'I19'}
  x = rgb2ycbcr(im2double(imread(fullfile(data, 'iqa-calibration', 'dist', [n{1} '.bmp'])))); x = x(:, :, 1);
  g = rgb2ycbcr(im2double(imread(fullfile(data, 'iqa-calibration', 'ref', [n{1} '.bmp'])))); g = g(:, :, 1);
  fprintf(f, '%s.bmp,%.10f,%.10f\n', n{1}, ssim_autodown(x * 255, g * 255), ssim_wang(x * 255, g * 255));
end
fclose(f);
