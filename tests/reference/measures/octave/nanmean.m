function m = nanmean(x)
% Column means ignoring NaN (MATLAB Statistics Toolbox nanmean for a matrix).
ok = ~isnan(x);
x(~ok) = 0;
m = sum(x, 1) ./ sum(ok, 1);
end
