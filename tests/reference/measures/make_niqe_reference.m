% Octave: NIQE references from the official LIVE release (see README.md for how to get it).
% Usage (from this folder):
%   octave-cli make_niqe_reference.m <niqe_release_dir> <shared_data_dir>
% <niqe_release_dir> holds the release's computequality.m, computefeature.m, estimateaggdparam.m,
% computemean.m and modelparameters.mat. octave/ holds our stand-ins for MATLAB functions
% Octave lacks (blkproc, nanmean, nancov) and MATLAB's full-precision rgb2gray.
pkg load image
args = argv();
release = args{1};
data = args{2};
here = fileparts(mfilename('fullpath'));
addpath(fullfile(here, 'octave'));
addpath(release);
load(fullfile(release, 'modelparameters.mat'));   % mu_prisparam, cov_prisparam
images = {};
for n = {'I03', 'I04', 'I06', 'I08', 'I19'}
  images{end + 1} = fullfile('iqa-calibration', 'dist', [n{1} '.bmp']);
end
for n = {'1', '10', '50', '100', '120', '77'}
  images{end + 1} = fullfile('real-internet147', [n{1} '.jpg']);
end
f = fopen(fullfile(here, 'octave_niqe.csv'), 'w');
fprintf(f, 'image,niqe_octave_official\n');
for k = 1:numel(images)
  im = imread(fullfile(data, images{k}));
  q = computequality(im, 96, 96, 0, 0, mu_prisparam, cov_prisparam);   % the release's example call
  fprintf(f, '%s,%.10f\n', images{k}, q);
end
fclose(f);
