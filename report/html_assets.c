/*
 * html_assets.c — report/report.css and report/report.js compiled in, so
 * that report.html needs no file beside the binary and the page's code can
 * be read and edited as CSS and JavaScript rather than C strings. The
 * assembler's .incbin takes the files as they are (paths from the repo
 * root, where make runs); the Makefile makes this object depend on them.
 */
__asm__(".section .rodata\n"
        ".global report_asset_css\n"
        ".type report_asset_css, @object\n"
        "report_asset_css:\n"
        ".incbin \"report/report.css\"\n"
        ".byte 0\n"
        ".global report_asset_js\n"
        ".type report_asset_js, @object\n"
        "report_asset_js:\n"
        ".incbin \"report/report.js\"\n"
        ".byte 0\n"
        ".previous\n");
