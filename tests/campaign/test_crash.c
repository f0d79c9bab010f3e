/* test_crash.c: a short run of the crash campaign (crash.c) for CI: a few
 * dozen SIGKILLs of a writer running the reference workload through the
 * backend, of a projector mid-batch and of a rebuild mid-swap.  The full
 * campaign (>= 1,000 kills) is tests/campaign/run-crash.sh. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

TestSuite(campaign_crash, .timeout = 110);

Test(campaign_crash, short_run_loses_nothing)
{
	const char *cmd = SL_CRASH_EXE " --kills 30 --proj-kills 8 --rebuild-kills 8 --seed 7"
				       " --events 1500 --max-ms 100 --quiet";
	int st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "%s: exit status %d (a finding is described above)", cmd,
		  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
