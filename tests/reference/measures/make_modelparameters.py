"""Write the NIQE release's modelparameters.mat (mu_prisparam 1×36, cov_prisparam 36×36) from
shared/weights/niqe/niqe_pris_params.npz, for running the official release in Octave.
Usage: python make_modelparameters.py <niqe_pris_params.npz> <release_dir>/modelparameters.mat"""
import sys

import numpy as np
import scipy.io

params = np.load(sys.argv[1])
scipy.io.savemat(sys.argv[2], {"mu_prisparam": params["mu_pris_param"], "cov_prisparam": params["cov_pris_param"]})
