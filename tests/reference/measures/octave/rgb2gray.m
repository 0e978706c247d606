function g = rgb2gray(rgb)
% MATLAB's rgb2gray with its full-precision coefficients (Octave's core rgb2gray rounds them to
% 6 digits, which can flip the rounding of a few uint8 pixels). uint8 in -> uint8 out, rounded.
coef = [0.298936021293775, 0.587043074451121, 0.114020904255103];
x = double(rgb);
g = coef(1) * x(:, :, 1) + coef(2) * x(:, :, 2) + coef(3) * x(:, :, 3);
if isa(rgb, 'uint8')
  g = uint8(g);  % Octave/MATLAB uint8() rounds half away from zero and saturates
end
end
