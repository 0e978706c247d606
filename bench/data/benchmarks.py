"""The registered benchmark folders. Each entry is data; no code per dataset.

Layouts come from the repositories people copy test sets from (see shared/REFERENCE.md):
JORDER/RCDNet, PReNet, MPRNet/Restormer (``input``/``target``), and each set's own release.
"""
from bench.data.label_index import CityscapesLabels
from bench.data.layouts import PairedBenchmark, PairedLayout

ANY_IMAGE = r"\.(?:png|jpg|jpeg|bmp|tif|tiff|webp|PNG|JPG|JPEG)"

# --- layouts shared by several sets -------------------------------------------------------------
JORDER_RAIN100 = PairedLayout("jorder", "rain", r"norain-(?P<id>\d+)\.png", "norain", "norain-{id}.png")
RCDNET_RAIN100 = PairedLayout("rcdnet", "rain", r"rain-(?P<id>\d+)\.png", "norain", "norain-{id}.png")
PRENET_RAIN100 = PairedLayout("prenet", "rainy", r"rain-(?P<id>\d+)\.png", ".", "norain-{id}.png")
JORDER_FLAT = PairedLayout("jorder-flat", ".", r"rain-(?P<id>\d+)\.png", ".", "norain-{id}.png")
MPRNET = PairedLayout("mprnet", "input", r"(?P<id>[^/]+?)" + ANY_IMAGE, "target", "{id}.*")
JORDER_RAIN200 = PairedLayout("jorder-x2", "rain/X2", r"norain-(?P<id>\d+)x2\.png", "norain", "norain-{id}.png")
DDN_RAIN1400 = PairedLayout("ddn", "rainy_image", r"(?P<id>(?P<base>\d+)_\d+)\.(?:jpg|png)",
                            "ground_truth", "{base}.*")
RAIN100_LAYOUTS = (JORDER_RAIN100, RCDNET_RAIN100, PRENET_RAIN100, JORDER_FLAT, MPRNET)

MPRNET_PAGE = "https://github.com/swz30/MPRNet (Deraining/README.md: test.zip with input/ + target/ per set)"

RAIN100L = PairedBenchmark(
    name="rain100l",
    description="Rain100L test set (old JORDER release), 100 synthetic light-rain pairs",
    folders=("rain100l", "Rain100L", "rain100L", "Rain100L/test", "test/Rain100L"),
    layouts=RAIN100_LAYOUTS, expected_count=100,
    source="https://www.icst.pku.edu.cn/struct/Projects/joint_rain_removal.html (JORDER); "
           "also csdwren/PReNet README datasets link and " + MPRNET_PAGE,
)

RAIN100H = PairedBenchmark(
    name="rain100h",
    description="Rain100H test set (old JORDER release), 100 synthetic heavy-rain pairs",
    folders=("rain100h", "Rain100H", "rain100H", "Rain100H/test", "test/Rain100H"),
    layouts=RAIN100_LAYOUTS, expected_count=100,
    source="https://www.icst.pku.edu.cn/struct/Projects/joint_rain_removal.html (JORDER); "
           "also csdwren/PReNet README datasets link and " + MPRNET_PAGE,
)

RAIN200L = PairedBenchmark(
    name="rain200l",
    description="Rain200L test set (new JORDER release, 'Rain100L new'), 200 synthetic light-rain pairs",
    folders=("rain200l", "Rain200L", "rain100l_new", "Rain100L_new", "Rain200L/test"),
    layouts=(JORDER_RAIN200, MPRNET), expected_count=200,
    source="https://www.icst.pku.edu.cn/struct/Projects/joint_rain_removal.html (JORDER-E, new release)",
)

RAIN200H = PairedBenchmark(
    name="rain200h",
    description="Rain200H test set (new JORDER release, 'Rain100H new'), 200 synthetic heavy-rain pairs",
    folders=("rain200h", "Rain200H", "rain100h_new", "Rain100H_new", "Rain200H/test"),
    layouts=(JORDER_RAIN200, MPRNET), expected_count=200,
    source="https://www.icst.pku.edu.cn/struct/Projects/joint_rain_removal.html (JORDER-E, new release)",
)

RAIN1400 = PairedBenchmark(
    name="rain1400",
    description="Rain1400 (DDN) test set: 100 clean images x 14 rain renderings = 1400 pairs",
    folders=("rain1400", "Rain1400", "DDN-Data", "Rain1400/test", "test/Rain1400"),
    layouts=(DDN_RAIN1400, MPRNET), expected_count=1400,
    source="https://xueyangfu.github.io/projects/cvpr2017.html (DDN, Fu et al. CVPR 2017)",
)

TEST100 = PairedBenchmark(
    name="test100",
    description="Test100 (ID-CGAN, Zhang et al.), 100 synthetic pairs",
    folders=("test100", "Test100", "test/Test100"),
    layouts=(MPRNET, PairedLayout("rain-norain", "rain", r"(?P<id>[^/]+?)" + ANY_IMAGE, "norain", "{id}.*")),
    expected_count=100,
    source="https://github.com/hezhangsprinter/ID-CGAN; as packaged by " + MPRNET_PAGE,
)

TEST1200 = PairedBenchmark(
    name="test1200",
    description="Test1200 (DID-MDN, Zhang & Patel), 1200 synthetic pairs, three rain densities",
    folders=("test1200", "Test1200", "test/Test1200"),
    layouts=(MPRNET, PairedLayout("rain-norain", "rain", r"(?P<id>[^/]+?)" + ANY_IMAGE, "norain", "{id}.*")),
    expected_count=1200,
    source="https://github.com/hezhangsprinter/DID-MDN (its test images are rainy|clean side by side: "
           "split them into input/ and target/ first); as packaged by " + MPRNET_PAGE,
)

SPA_DATA = PairedBenchmark(
    name="spa-data",
    description="SPA-Data real_test_1000: 1000 real rainy 512x512 crops with video-derived pseudo-GT",
    folders=("spa-data", "SPA-Data", "spa_data", "real_test_1000", "SPA-Data/real_test_1000",
             "spa-data/real_test_1000", "SPA-Data/testing/real_test_1000"),
    layouts=(
        PairedLayout("spanet", "rain", r"(?P<id>\d+)\.png", "gt", "{id}gt.png"),
        PairedLayout("spanet-same-name", "rain", r"(?P<id>\d+)\.png", "gt", "{id}.png"),
        PairedLayout("spanet-flat", ".", r"(?P<id>\d+)\.png", ".", "{id}gt.png"),
        PairedLayout("spanet-suffix", "rain", r"(?P<id>\d+)_rain\.png", "gt", "{id}_gt.png"),
        MPRNET,
    ),
    expected_count=1000,
    source="https://stevewongv.github.io/derain-project.html (SPANet, Wang et al. CVPR 2019; cloud drive)",
)

RAINCITYSCAPES = PairedBenchmark(
    name="raincityscapes",
    description="RainCityscapes test pairs, rendered rain on Cityscapes street scenes",
    folders=("raincityscapes", "RainCityscapes", "rain_cityscapes"),
    layouts=(
        PairedLayout("pairs", "rain100mm", r"(?P<id>.+)\.png", "norain", "{id}.png"),
        # the official release: leftImg8bit_rain/<split>/<city>/<stem>_leftImg8bit_rain_alpha_..._pattern_N.png
        PairedLayout("cityscapes-rain", "leftImg8bit_rain/test",
                     r"(?P<id>(?P<stem>[a-z_]+_\d{6}_\d{6})_leftImg8bit_rain_.+)\.png",
                     "leftImg8bit/test", "{sub}/{stem}_leftImg8bit.png", recursive=True),
        PairedLayout("cityscapes-rain-val", "leftImg8bit_rain/val",
                     r"(?P<id>(?P<stem>[a-z_]+_\d{6}_\d{6})_leftImg8bit_rain_.+)\.png",
                     "leftImg8bit/val", "{sub}/{stem}_leftImg8bit.png", recursive=True),
        MPRNET,
    ),
    expected_count=None,  # the shared subset has 100; the full test split has 1188 (33 cities' frames x 36)
    labels=CityscapesLabels(),
    source="https://www.cityscapes-dataset.com/downloads/ (leftImg8bit_trainval_rain.zip + gtFine, account "
           "required); subset: yuyi-sd/Robust_Rain_Removal rain_cityscapes/test/small",
)

REAL200 = PairedBenchmark(
    name="real200",
    description="Real200: 200 real rainy photographs without ground truth (Semi-DRDNet)",
    folders=("real200", "Real200", "real-200"),
    layouts=(PairedLayout("flat", ".", r"(?P<id>[^/]+?)" + ANY_IMAGE),
             PairedLayout("rain", "rain", r"(?P<id>[^/]+?)" + ANY_IMAGE),
             PairedLayout("input", "input", r"(?P<id>[^/]+?)" + ANY_IMAGE)),
    expected_count=200, label_source="none",
    source="https://github.com/syy-whu/DRD-Net (Semi-DRDNet; cloud drive link in its README)",
)

INTERNET_DATA = PairedBenchmark(
    name="internet-data",
    description="Internet-Data (SIRR): 147 real rainy photographs without ground truth",
    folders=("internet-data", "real-internet147", "Internet-Data", "Real_Internet", "real_internet"),
    layouts=REAL200.layouts, expected_count=147, label_source="none",
    source="https://github.com/wwzjer/Semi-supervised-IRR (data/rainy_image_dataset/real_input)",
)
