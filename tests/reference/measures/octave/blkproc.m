function out = blkproc(im, blocksize, overlap, fun)
% Stand-in for MATLAB's (removed) blkproc, for the no-overlap case NIQE uses:
% apply fun to each blocksize block (row-major grid) and tile the outputs on the same grid,
% exactly as MATLAB's blkproc arranges them. Written for derain-bench's Octave references.
if any(overlap ~= 0)
  error('blkproc shim: only zero overlap is supported');
end
nr = floor(size(im, 1) / blocksize(1));
nc = floor(size(im, 2) / blocksize(2));
out = [];
for c = 1:nc
  col = [];
  for r = 1:nr
    rows = (r - 1) * blocksize(1) + (1:blocksize(1));
    cols = (c - 1) * blocksize(2) + (1:blocksize(2));
    col = [col; fun(im(rows, cols))];
  end
  out = [out, col];
end
end
