/*
 * replay.c: main() for the replay build of a libFuzzer harness.
 *
 *	usage: fuzz-NAME [-v] FILE|DIR ...
 *
 * Calls LLVMFuzzerInitialize once, then LLVMFuzzerTestOneInput once per
 * file: each FILE, and every regular file in each DIR (not recursive, in
 * name order). Each input is copied into a buffer of exactly its size, as
 * libFuzzer does, so that an overread is caught by ASan (SANITIZE=1) or
 * valgrind. A harness reports a broken invariant by aborting (fuzz_fail
 * names the file being run); a sanitizer's report is followed by the
 * file's name through the sanitizer's death callback. -v names every file
 * as it starts.
 * Exit: 0 after every input ran, 1 if no input was found or one could not
 * be read, 2 on usage errors.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

#define INPUT_MAX	(16 * 1024 * 1024)	/* bytes of one input */

/* Present only in a sanitizer build. */
extern void __sanitizer_set_death_callback(void (*)(void))
    __attribute__((weak));

static FILE	*err;		/* stderr before fuzz_init silenced it */
static int	verbose;
static size_t	ninputs;

static int
run_file(const char *path)
{
	FILE *fp;
	struct stat st;
	uint8_t *buf;
	size_t n;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &st) == -1) {
		fprintf(err, "replay: %s: %s\n", path, strerror(errno));
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	if (st.st_size > INPUT_MAX) {
		fprintf(err, "replay: %s: larger than %d bytes\n", path,
		    INPUT_MAX);
		fclose(fp);
		return -1;
	}
	n = (size_t)st.st_size;
	/* malloc(0) may return NULL; an empty input is still an input */
	if ((buf = malloc(n ? n : 1)) == NULL ||
	    fread(buf, 1, n, fp) != n) {
		fprintf(err, "replay: %s: cannot read\n", path);
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	if (verbose)
		fprintf(err, "replay: %s\n", path);
	fuzz_input_name = path;
	LLVMFuzzerTestOneInput(buf, n);
	fuzz_input_name = NULL;
	free(buf);
	ninputs++;
	return 0;
}

static void
on_death(void)
{
	if (fuzz_input_name != NULL)
		fprintf(err, "replay: the input was %s\n", fuzz_input_name);
}

static int
byname(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
run_dir(const char *dir)
{
	struct dirent **ents;
	char path[4096];
	struct stat st;
	int n, i, rc = 0;

	if ((n = scandir(dir, &ents, NULL, byname)) == -1) {
		fprintf(err, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    ents[i]->d_name) < sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    run_file(path) == -1)
			rc = -1;
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct stat st;
	int i, rc = 0;

	err = stderr;
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argc--;
		argv++;
	}
	if (argc < 2) {
		fprintf(err, "usage: fuzz-NAME [-v] file|dir ...\n");
		return 2;
	}
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(on_death);
	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(err, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode) ? run_dir(argv[i]) == -1 :
		    run_file(argv[i]) == -1)
			rc = 1;
	}
	fprintf(err, "replay: %zu inputs\n", ninputs);
	if (ninputs == 0)
		rc = 1;
	return rc;
}
