/* SPDX-License-Identifier: MIT */
/* anpu-trace report --html: the page around the data (html_page.c). */
#ifndef HTML_PAGE_H
#define HTML_PAGE_H

/* Everything before the data script: doctype, inline CSS, the page's frame. */
extern const char html_page_head[];
/* Everything after it: the renderer (inline JS) and the end of the page. */
extern const char html_page_script[];

#endif /* HTML_PAGE_H */
