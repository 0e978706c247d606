function c = nancov(x)
% MATLAB nancov default ('complete' rows): drop any row holding a NaN, then cov (N-1).
x = x(~any(isnan(x), 2), :);
c = cov(x);
end
