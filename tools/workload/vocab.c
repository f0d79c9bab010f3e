/* vocab.c: the fixed vocabulary and phrase tables of the reference workload.
 *
 * Everything the generator writes as prose comes from these tables: word
 * lists (space-separated, most common first, so that the Zipf sampling in
 * text.c favours the head of each list), sentence patterns with slots, and
 * the fragments agent prompts and outputs really contain (commands, Python
 * code, tracebacks, test output).  The tables are data: changing them
 * changes every figure measured on the workload, so treat them as part of
 * the workload's definition (WORKLOAD.md) and change them deliberately.
 *
 * Pattern slots are expanded by text.c; see the table there.  No string here
 * may contain a double quote or a backslash where it can end up in JSON
 * (validation names, learned patterns): those are formatted without
 * escaping.
 */
#include "workload_internal.h"

/* General nouns: singular, regular plurals only. */
const char sl_wl_nouns[] =
	"change issue problem result value time way case part point number "
	"step line file name list test check reason question answer example "
	"place rule order group system program user report state record entry "
	"detail section option setting message error warning note plan task "
	"item field table view page word text block field level type kind form "
	"source target input output request response document process project "
	"version release branch commit review comment feature fix update patch "
	"path folder directory account owner team member person customer client "
	"server machine node host network address port service worker agent job "
	"sheet attempt retry run batch stage phase round cycle window limit "
	"budget cost price amount total count sum average rate ratio score "
	"metric signal event action decision choice goal target outcome effect "
	"impact risk concern idea approach method strategy pattern design model "
	"structure layout format shape size length width height depth weight "
	"edge corner border boundary center middle start end beginning finish "
	"minute hour day week month year moment period season date deadline "
	"schedule calendar meeting conversation discussion summary overview "
	"introduction conclusion chapter paragraph sentence letter character "
	"language translation dictionary glossary index catalog inventory "
	"library collection archive history story article post thread topic "
	"subject theme category label tag marker flag status condition "
	"situation context environment surface area region zone territory "
	"country city street road route journey trip visit stop station "
	"building room office desk chair door wall floor roof window garden "
	"tree flower plant seed leaf root river lake ocean island mountain "
	"hill valley field forest desert sky cloud storm weather temperature "
	"pressure energy power force speed distance direction position location "
	"picture image photo drawing chart graph diagram map figure shape color "
	"sound voice noise music song tone note rhythm beat pulse wave "
	"student teacher lesson course class exam grade score paper thesis "
	"company business market product customer supplier partner contract "
	"invoice payment receipt order shipment package delivery warehouse "
	"factory tool machine engine motor device instrument sensor camera "
	"screen keyboard button switch lever handle wheel chain rope wire cable "
	"bottle glass cup plate bowl knife spoon kitchen table shelf drawer "
	"box bag basket bucket barrel container jar can tube pipe valve pump "
	"tank filter gauge meter scale balance mirror lens lamp light shadow "
	"mark sign symbol icon logo badge card ticket pass key lock code "
	"password secret token credential permission role policy guideline "
	"principle standard requirement constraint assumption expectation "
	"promise guarantee warranty obligation duty responsibility task chore "
	"habit routine practice exercise drill trial experiment observation "
	"measurement estimate guess prediction forecast projection trend "
	"increase decrease growth decline improvement regression difference "
	"similarity comparison contrast balance tradeoff benefit advantage "
	"drawback weakness strength opportunity threat challenge obstacle "
	"solution workaround shortcut alternative option possibility chance "
	"probability certainty doubt belief opinion view perspective angle "
	"aspect element component piece fragment portion share slice layer "
	"level tier rank grade class family member parent sibling neighbor "
	"friend colleague manager leader expert beginner reader writer editor "
	"author speaker listener viewer player winner loser guest host visitor "
	"ability absence access accident accuracy achievement acid "
	"activity actor addition administration adult advice agency "
	"agreement aircraft alarm analysis animal anniversary apartment "
	"appearance application appointment arrangement arrival assembly "
	"assessment assignment assistance assistant association atmosphere "
	"attention attitude audience authority awareness background bank "
	"bargain basis battery battle bay beach bean bear bed bell belt "
	"bench bicycle bill bird birth blade blanket blood board boat body "
	"bone bonus bottom brain brand bread breakfast brick bridge "
	"brother brush bubble bulb bundle butter cabinet cake campaign "
	"canal candidate candle capacity capital captain career cargo "
	"carpet cart castle cattle ceiling cell century ceremony "
	"certificate champion charity chest chicken chief childhood chip "
	"church circle citizen claim clerk climate clock cloth coach coast "
	"coat coffee coin collar college column comfort commission "
	"committee community competition complaint concept conference "
	"confidence conflict connection consequence consultant contact "
	"content contest contribution convention cookie copper cotton "
	"council courage court cousin crash cream creature credit crew "
	"crime crisis criticism crop crowd crown culture currency curtain "
	"curve cushion damage dance danger debate debt decade definition "
	"degree delay demand department deposit description desire dinner "
	"director disaster discount disease dish distribution district "
	"doctor dog dollar donkey draft drama dream dress driver dust "
	"economy education efficiency effort egg election emergency "
	"emotion employee employer encounter engineer enterprise entrance "
	"equipment essay evening evidence examination exhibition existence "
	"expansion experience explanation expression extent facility "
	"failure faith fame fan farm farmer fashion fault favor fear "
	"feather fee fence festival fiction finance finger fire fish "
	"flight flood fog food foot fortune foundation fountain frame "
	"freedom frequency fruit fuel fund funeral furniture gallery game "
	"gap gas gate gene generation gift girl goat gold golf government "
	"grain grass gravity grocery guard guidance guitar habitat hair "
	"hall hammer harbor harvest hat health heart heat highway hobby "
	"holiday honey hope horse hospital hotel household housing hunger "
	"hunter identity illness imagination income independence industry "
	"infection inflation influence initiative injury insect inspection "
	"inspector institution insurance intention interest interview "
	"investment iron jacket jewel journal judge juice jury justice "
	"kettle kingdom knee ladder lady landscape lawyer leadership "
	"league leather lecture legend leisure liberty license lift lion "
	"liquid loan lobby luck lunch machinery magazine magnet "
	"maintenance majority mall management manner margin marriage mass "
	"match material meal meat medicine membership memory menu merchant "
	"metal midnight milk mind mineral minister minority mission "
	"mixture monitor mood mortgage mother motion mouse mouth movie "
	"muscle museum mystery nation nature negotiation nerve newspaper "
	"nose novel nurse nut object occasion offer officer oil operation "
	"operator orange organization oven painting pair palace panel "
	"parking passenger passion pasture patience patient peace pen "
	"pencil pension pepper performance permit phone physics piano pie "
	"pilot pin pitch planet platform pleasure pocket poem poet poetry "
	"pole police politics pollution pool population porch portrait "
	"possession potato pound poverty powder preference preparation "
	"presence president pride priest prince principal printer priority "
	"prison privacy prize procedure profession professor profit "
	"progress property proportion proposal prospect protection protest "
	"province publication pupil purchase purpose quality quantity "
	"quarter queen radio rail rain range reaction reality recipe "
	"recognition recording recovery reflection reform refrigerator "
	"relation relationship relief religion rent replacement "
	"representative reputation research reserve resident resistance "
	"resolution resort resource restaurant revenue revolution reward "
	"rice ring rock roll rose ruler safety sail salad salary sale salt "
	"sand satisfaction sauce scene science scientist scope screw sea "
	"secretary security selection sense sequence series settlement "
	"shade ship shirt shock shoe shop shoulder shower silver singer "
	"sister skill skin sleep smell smoke snow society soil soldier "
	"soup space species specialist spirit sport spring square staff "
	"stair stake statement steel stock stomach stone storage stranger "
	"stream stress studio substance success sugar suit sun supermarket "
	"supply surgery surprise survey suspect sweater symptom talent "
	"tape tax tea technology telephone television temple tennis "
	"tension term theater theory therapy thought throat thumb tie "
	"tissue title toe tomato tongue tooth tour tourist tower town toy "
	"trade tradition traffic train transport trash treasure treatment "
	"truck trust truth tunnel twin uncle union unit university "
	"vacation variety vegetable vehicle venue video village violin "
	"virus vision volume volunteer vote wage wagon wealth weapon "
	"wedding wheat whistle wind wine wing winter witness wood wool "
	"workshop yard youth";

/* Nouns of the agents' own trade. */
const char sl_wl_tech_nouns[] =
	"function module test config parser handler request response value "
	"variable argument parameter return exception error class method "
	"object instance attribute property field string integer list dict "
	"array tuple iterator generator decorator context manager callback "
	"thread lock queue buffer cache index key column row schema query "
	"database connection cursor transaction migration model serializer "
	"validator formatter logger timestamp timeout deadline retry backoff "
	"endpoint route client server socket stream pipe channel signal "
	"process subprocess command script shell path directory file "
	"package dependency import namespace scope closure lambda loop branch "
	"condition assertion fixture mock stub patch coverage benchmark "
	"profile trace stack frame traceback snippet docstring comment "
	"annotation hint interface protocol abstraction implementation wrapper "
	"adapter factory builder registry plugin extension hook event listener "
	"emitter dispatcher scheduler worker executor pool task future promise "
	"result payload header body token session cookie credential secret "
	"hash digest checksum encoding decoder encoder codec compressor "
	"archive snapshot checkpoint backup restore rollback commit branch "
	"merge rebase tag release version changelog manifest lockfile "
	"template renderer view controller component widget layout style "
	"selector element node tree graph edge vertex heap slice chunk "
	"segment offset pointer reference handle descriptor flag option "
	"setting default override environment container image volume cluster "
	"replica shard partition topic consumer producer broker message "
	"notification webhook job pipeline stage step artifact build "
	"compiler linter formatter checker runner harness suite case sample "
	"dataset record entry batch sheet attempt orchestrator backend "
	"frontend workspace repository revision diff hunk conflict constraint "
	"invariant precondition boundary fallback placeholder sentinel "
	"counter metric gauge histogram threshold quota limit budget "
	"allocator analyzer annotation artifact assertion autoloader "
	"balancer binding bitmap blob bucket bytecode calendar callable "
	"catalog certificate changeset cipher classifier clock collector "
	"collection compiler constructor converter coroutine cron crawler "
	"daemon dataframe datetime debugger deque dictionary digest "
	"directive dispatcher dockerfile dump enum epoch evaluator "
	"exporter expression fetcher filename finalizer firewall framework "
	"generator getter glob grammar heuristic hostname importer "
	"initializer inode interpreter iterable journal kernel keyword "
	"launcher lexer lifecycle loader locale lookup macro mapper "
	"matcher memo metadata middleware mixin monitor mutex notebook "
	"operand optimizer outbox packet pager paginator parameterization "
	"parser partition patcher permission pickle pipeline poller "
	"predicate prefix preprocessor printer probe projection prompt "
	"property proxy publisher quota reader reconciler recorder "
	"redirect reducer regex remote renderer reporter resolver resource "
	"retriever router runtime sandbox sanitizer scanner scraper "
	"selector semaphore sequence setter shim signature singleton sink "
	"socket sorter spec splitter statement subscriber suffix "
	"supervisor symbol syntax tarball tenant throttle tokenizer tracer "
	"transformer trigger tuple uploader uri validator vector watcher "
	"webhook whitelist writer yaml";

/* Regular verbs: inflected by rule (text.c).  Verbs that double their last
 * consonant or are irregular are in sl_wl_irregular_verbs instead. */
const char sl_wl_verbs[] =
	"check update add remove fix change create use need make handle return "
	"call pass fail load save parse validate read print open close start "
	"finish test verify confirm ensure include exclude replace rename move "
	"copy delete clean refactor simplify extract inline split join merge "
	"compare match filter sort group count collect gather compute "
	"calculate estimate measure report record track follow look search "
	"review inspect examine investigate explore consider decide choose "
	"prefer allow prevent avoid require expect assume suppose believe "
	"notice observe reproduce trigger raise catch ignore skip retry "
	"restart resume pause cancel schedule queue dispatch process convert "
	"transform format render display show explain describe document "
	"mention suggest recommend propose implement introduce define declare "
	"initialize configure install upgrade downgrade pin import export "
	"expose wrap unwrap serialize deserialize encode decode compress "
	"extend override inherit register resolve reject accept approve "
	"request respond answer ask help support improve optimize reduce "
	"increase limit restrict enable disable toggle adjust tune tweak "
	"normalize sanitize escape quote truncate pad trim strip append "
	"insert prepend attach detach connect disconnect mount unmount lock "
	"unlock release acquire wait poll watch monitor log warn alert notify "
	"deploy publish package bundle compile link build generate produce "
	"consume emit listen subscribe unsubscribe publish fetch download "
	"upload sync mirror cache invalidate refresh reload reset clear flush "
	"store persist restore recover repair patch mark label tag annotate "
	"highlight underline outline summarize list enumerate iterate loop "
	"repeat walk visit traverse scan crawl index rank score weigh balance "
	"divide multiply subtract sum round clamp bound guard protect secure "
	"encrypt decrypt sign authenticate authorize grant revoke deny block "
	"unblock isolate separate combine bind attach reuse share own borrow "
	"depend rely assert mock stub fake simulate emulate benchmark profile "
	"trace debug diagnose troubleshoot locate identify detect discover "
	"learn remember forget keep hold contain provide offer deliver "
	"complete achieve reach exceed approach touch affect influence "
	"determine establish maintain preserve retain remain stay continue "
	"proceed advance progress return revert rewrite reword rephrase clarify "
	"absorb accelerate accompany accomplish accumulate accuse "
	"acknowledge activate adapt address adopt advertise advise afford "
	"aim alter amend amuse analyze announce annoy anticipate apologize "
	"appeal appear apply appreciate arrange arrest arrive assemble "
	"assess assign assist associate attempt attend attract bake bathe "
	"behave blame boil bounce breathe brush burn calm care carry cause "
	"celebrate challenge charge chase chew claim classify climb coach "
	"collapse comment communicate compete complain compose concentrate "
	"conclude conduct confess confront confuse consist construct "
	"consult contact contribute cook cooperate coordinate correct "
	"cough cover crack crash crawl cross crush cure curl cycle damage "
	"dance dare deceive decorate dedicate defend delay delight demand "
	"demonstrate depart deserve design destroy develop devote dictate "
	"differ direct disagree disappear discuss dislike dismiss "
	"distribute disturb dominate doubt drag drain dress drown earn "
	"educate elect eliminate embrace emerge employ encourage endure "
	"engage enhance enjoy enlarge enter entertain evaluate evolve "
	"exaggerate exchange excite excuse execute exhibit exist expand "
	"experiment explode express face fade fasten fear feed fill fire "
	"float flood flow fold force form found frame frighten gain gaze "
	"glance glow govern grab greet guarantee guess guide hammer hand "
	"hang happen harm hate heat hunt hurry illustrate imagine impress "
	"inform inject injure inquire instruct intend interfere interpret "
	"interrupt invent invest invite involve irritate jump kick kiss "
	"knock land last laugh launch lean lift like manage marry master "
	"matter memorize mend mix motivate nail negotiate nest note obey "
	"object obtain occupy offend operate order organize owe paint park "
	"participate perform permit persuade phone pick place play please "
	"point polish possess pour practice praise pray precede predict "
	"prepare present press pretend print proclaim promise promote "
	"pronounce prove pull punch punish purchase push qualify question "
	"race rain realize receive recognize recruit reflect refuse regard "
	"relate relax remind represent rescue research reserve resign "
	"resist retire reveal rinse risk roll rub rush satisfy scare "
	"scatter scratch scream seem select serve settle shade shake shape "
	"shiver shock shout sigh sketch slide smell smile smoke sneeze "
	"solve sound spare spell spill spoil spray sprout squeeze stamp "
	"stare steer stimulate stretch strike struggle study stuff succeed "
	"suffer supply surprise surround survive suspect suspend sway "
	"switch talk tame taste teach tease tempt terrify thank threaten "
	"tickle tie tire tolerate tour trade train transfer translate "
	"travel treat tremble trust try twist type unite urge vanish vary "
	"wander want warm wash waste wave whisper whistle wink wish wonder "
	"work worry wrap yawn yell zoom";

/* base 3sg past gerund, one verb per group. */
const char sl_wl_irregular_verbs[] =
	"run runs ran running|write writes wrote writing|find finds found finding|"
	"get gets got getting|set sets set setting|put puts put putting|"
	"see sees saw seeing|take takes took taking|give gives gave giving|"
	"go goes went going|do does did doing|know knows knew knowing|"
	"think thinks thought thinking|begin begins began beginning|"
	"break breaks broke breaking|choose chooses chose choosing|"
	"stop stops stopped stopping|plan plans planned planning|"
	"commit commits committed committing|submit submits submitted submitting|"
	"emit emits emitted emitting|drop drops dropped dropping|"
	"split splits split splitting|send sends sent sending|"
	"keep keeps kept keeping|leave leaves left leaving|"
	"build builds built building|spend spends spent spending|"
	"hold holds held holding|bring brings brought bringing|"
	"show shows showed showing|mean means meant meaning|"
	"forget forgets forgot forgetting|rerun reruns reran rerunning";

const char sl_wl_adjectives[] =
	"new old good bad small large big short long simple complex clear "
	"main current previous next last first final initial default empty "
	"full valid invalid correct wrong missing extra optional required "
	"public private internal external local remote global static dynamic "
	"early late fast slow quick safe unsafe stable unstable broken "
	"working failing passing pending active inactive idle busy free "
	"available unavailable visible hidden open closed known unknown "
	"common rare similar different same separate single multiple "
	"several many few whole partial complete incomplete consistent "
	"inconsistent explicit implicit obvious subtle minor major critical "
	"important relevant useful useless helpful careful strict loose "
	"flexible rigid generic specific abstract concrete real virtual "
	"temporary permanent persistent transient recent stale fresh clean "
	"dirty raw parsed nested flat deep shallow narrow wide heavy light "
	"expensive cheap efficient redundant duplicate unique original "
	"primary secondary additional remaining existing underlying related "
	"separate independent dependent compatible incompatible deprecated "
	"legacy modern standard custom manual automatic readable verbose "
	"quiet noisy strange unexpected expected surprising reasonable "
	"sensible careful robust fragile brittle reliable flaky random "
	"deterministic sorted unsorted ordered unordered mutable immutable "
	"synchronous asynchronous concurrent sequential parallel atomic "
	"idempotent recursive iterative numeric textual binary boolean "
	"structured plain formal informal minimal maximal small tiny huge "
	"entire proper improper accurate precise rough approximate exact "
	"positive negative neutral higher lower better worse easier harder "
	"able absent absolute academic acceptable accessible actual "
	"adequate adjacent advanced aggressive alert alive ancient angry "
	"annual anxious apparent appropriate arbitrary artificial asleep "
	"attractive average aware awful basic beautiful bitter blank blind "
	"bold bored brave brief bright brilliant calm capable casual "
	"central certain cheerful chief civil classic clever close cold "
	"comfortable commercial comprehensive confident conscious "
	"conservative considerable constant content cool corporate crazy "
	"creative cruel cultural curious cute daily dangerous dark dead "
	"dear decent decisive definite delicate democratic dense "
	"dependable desperate detailed digital direct distant distinct "
	"domestic dominant double dramatic dry due dull eager eastern "
	"economic educational effective elaborate elderly electric "
	"electronic elegant emotional empirical endless enormous equal "
	"essential eternal ethical everyday evident exact excellent "
	"exciting exclusive exotic extensive extreme fair faithful false "
	"familiar famous fancy fantastic federal fierce financial fine "
	"firm fit fixed fluent foreign former fortunate frequent friendly "
	"frozen functional fundamental funny future gentle genuine giant "
	"glad golden gradual grand grateful great green grey gross guilty "
	"handsome happy hard harsh healthy helpless historic honest "
	"horizontal hostile hot human humble hungry ideal identical ill "
	"illegal immediate immense impossible impressive inadequate "
	"inclined indirect individual industrial inevitable innocent "
	"intense interesting intermediate interior invisible joint junior "
	"just keen kind lazy legal legitimate liberal likely limited "
	"linear literary little live lively logical lonely loud lovely "
	"loyal lucky magnificent marginal marvelous massive mature mean "
	"medical mental mere mild military mobile moderate modest moral "
	"national natural nearby neat necessary nervous nice noble nominal "
	"normal northern notable novel nuclear numerous objective "
	"occasional odd official operational opposite optical ordinary "
	"organic outer overall painful pale parallel particular passive "
	"patient peaceful peculiar perfect personal physical pink pleasant "
	"polite political poor popular portable powerful practical "
	"precious present pretty prime principal prior probable productive "
	"professional profound progressive prominent proud pure purple "
	"radical rapid rational ready rear regional regular relative "
	"residential responsible rich ripe rival romantic rotten round "
	"royal rural sacred sad satisfactory scientific secret secure "
	"selective senior sensitive serious severe sharp sheer shiny "
	"silent silly sincere skilled slight smart smooth social soft "
	"solar solid sophisticated sore sound southern spare spatial "
	"special spiritual splendid spontaneous square steady steep sticky "
	"stiff straight strong subsequent substantial successful sudden "
	"sufficient suitable super superb superior supreme sure sweet "
	"swift symbolic sympathetic systematic tall technical tender "
	"terrible thick thin thorough tight tired total tough traditional "
	"tropical typical ugly ultimate unable uncertain unfair unhappy "
	"uniform universal unlikely unusual upper upset urban urgent usual "
	"vague vast verbal vertical vital vivid voluntary vulnerable warm "
	"weak wealthy weird western wet white wild wise wonderful wooden "
	"yellow young";

const char sl_wl_adverbs[] =
	"now then also only just still already again here there first "
	"finally currently previously quickly slowly carefully correctly "
	"properly directly simply clearly probably possibly actually really "
	"usually often sometimes rarely never always instead together "
	"separately locally globally explicitly implicitly automatically "
	"manually safely silently eventually immediately recently later "
	"earlier once twice partly fully mostly nearly exactly roughly";

const char sl_wl_prepositions[] =
	"in on at for with from to into by of about after before during "
	"under over between through without within across around against";

const char sl_wl_determiners[] =
	"the the the the this that each every any our its the the some";

/* Words that make up job names, project names and module names. */
const char sl_wl_project_words[] =
	"docs api core auth billing search ingest report export import sync "
	"parser scheduler gateway payments catalog inventory orders users "
	"notify metrics storage cache frontend backend cli sdk worker pipeline "
	"analytics ledger audit admin portal console agent vault relay bridge";

const char sl_wl_job_verbs[] =
	"refactor migrate document test harden upgrade audit clean port "
	"modernize stabilize optimize rewrite review translate annotate";

const char sl_wl_users[] =
	"alice bob carol dave erin frank grace heidi ivan judy mallory oscar";

/* Sentence patterns for task descriptions and explanations. */
const char *const sl_wl_sentences[] = {
	"%D %A %N %Z %D %N %P %D %T",
	"we need to %V %D %T %P %D %A %N",
	"the %T in `%p` %Z %D %A %T when %D %N is %A",
	"%D %T should %V %D %S %P %D %N",
	"make sure that %D %T %Z %R",
	"%V %D %A %T and %V %D %U that %V it",
	"if %D %T is %A, %V %D %N %P `%F()`",
	"the current %T %Z %D %S %R, which is %A",
	"do not %V %D %T %P %D %N",
	"this %T was %E %P %D %A %N",
	"%D %U %P `%M` are %A and should be %E",
	"keep %D %T %A so that %D %U %V %R",
	"the %N of %D %T %Z %P `%c`",
	"%V `%F()` to %V %D %A %T",
	"when %D %T %Z, %D %T %Z %D %N",
	"it is %A to %V %D %S %P %D %T",
	"each %T %Z %a %A %T %P %D %N",
	"%D %N %Z %R %P %D %T %Z",
	"there is %a %A %T %P `%p` that %Z %D %N",
	"the tests in `%t` %V %D %T %P %D %A %N",
	"use %a %A %T instead of %a %A %T",
	"%D %A %S %V %R %P %D %T",
	"after %G %D %T, %V %D %U",
	"%G %D %T %Z %D %N %R",
	"%D %A %N %P %D %N %Z %R %A",
	"%S and %U %V %R %P %D %A %N",
	"since %D %N %Z, %D %U %P `%F()` must %V %D %S",
	"line %l of `%p` %Z %D %T that `%F()` %E",
	"about %n%% of %D %U %V %D %A %N %P %D %N",
	"%D %N %P %D %T %Z %R %P %d seconds",
	"%V %D %S %P `%c` %R, then %V %D %A %T",
	"%A %S %V %D %A %N; %A %U %V %D %N",
	"%D %A %T %P %D %N %Z %A %S",
	"nothing %P %D %N %Z %D %A %T %P `%M`",
	"%D %N was %E %P commit %h and %E %R",
	"both `%F()` and `%F()` %V %D %A %N",
	"%V %a %A %N whenever %D %T %Z %A",
	"%D %S %V %P %n %U, not %n",
	"why does %D %A %T %V %D %N %P %D %N",
	"%G %S %P %D %N %Z %A %P %D %T",
	"%D %A %N and %D %A %N %V %D %U %R",
	"%V %D %T, %V %D %N, and %V %D %A %S",
	"the `%v` %T %Z `%v` when `%v` is %A",
	"set `%v` to %n and `%v` to %n before %G `%c.%F()`",
	"%D `%v` argument of `%F()` %Z %D %A `%v`",
	"`%c.%v` %Z %n %U, but `%v` only %n",
	"rename `%v` to `%v` and %V `%v` %R",
	"%G `%v.%v` %P `%F()` %Z %D `%v` %T",
};

/* The agent's own voice in outputs. */
const char *const sl_wl_agent_sentences[] = {
	"I'll start by %G `%p` to understand how %D %T %Z",
	"let me look at `%F()` first",
	"I %E %D %T and %E that %D %N %Z %R",
	"the problem is that `%F()` %Z %D %A %T",
	"now I'll %V %D %T in `%p`",
	"I %E %D %A %T %P `%c`",
	"this should %V %D %N without %G %D %T",
	"let me run the tests to %V the change",
	"the tests pass now",
	"I need to %V %D %T before %G %D %U",
	"looking at the traceback, %D %T is %A",
	"I'll %V %a %A %T for %D %N",
	"that %Z %D %T, so I %E `%F()` as well",
	"%D %T %Z %R now, and %D %A %U are %E",
	"let me check whether %D %T %Z %D %N",
	"I %E the %A %T and %E %a %A one",
	"%D %N %P `%F()` %Z %D %A %T %P line %l",
	"I %E %n %U %P `%p` and %n %P `%t`",
	"it seems %D %T %Z %D %A %N when %D %S are %A",
	"I'm %G %D %T %R because %D %N %Z %A",
	"the %A %T %P `%c` is %E %P %D %N %R",
	"running `%F()` with %v=%n %Z %a %A %T",
	"commit %h %E %D %T, so I %E it %R",
	"%D %U %P `%M` %V %D %A %N, but `%F()` %Z %D %S",
	"I %E %D %N %P %d seconds to %n ms by %G %D %T",
	"there are %n %A %U %P `%p` and %n %P `%t`",
	"good, %D %A %T %Z %R and %D %U %V",
	"hmm, `%F()` %Z %a %A %N %P %D %T",
	"I'll %V %D %S first and %V %D %A %U afterwards",
	"the failing %T was %G %D %N %P `%c`",
	"that %Z it: %D %U %V %R and %D %A %N %Z",
	"next, %D %N %P `%F()` needs %a %A %T",
	"%D %T %P line %l %Z %D %N %P %D %A %T",
	"I %E whether %D %U %V %D %N; they %V",
	"this %Z %a %A %N %P `%J.%M`",
	"the diff is %n lines across %n files",
	"`%v` is %A here because `%v` %Z `%v.%v` first",
	"I %E `%v` %P `%F()` and %E `%v` %R",
	"%D value of `%v` was %n, not %n, after `%c.%F()` %E",
	"`%v` and `%v` now %V %D `%v` %T",
	"I %E `%v.%v` to `%v.%v` in %n places",
	"with `%v=%n`, `%F()` %Z `%v` %R",
};

/* Python code, one template per fragment.  %v is a variable name, %F a
 * function of the job, %c a class, %s a short sentence. */
const char *const sl_wl_code[] = {
	"def %F(%v, %v=None):\n"
	"    \"\"\"%s.\"\"\"\n"
	"    if %v is None:\n"
	"        raise ValueError(\"%v must not be None\")\n"
	"    result = []\n"
	"    for item in %v:\n"
	"        if not item.%v:\n"
	"            continue\n"
	"        result.append(%F(item))\n"
	"    return result\n",

	"class %c(%c):\n"
	"    \"\"\"%s.\"\"\"\n"
	"\n"
	"    def __init__(self, %v, %v=%n):\n"
	"        super().__init__()\n"
	"        self.%v = %v\n"
	"        self._%v = {}\n"
	"\n"
	"    def %F(self, key):\n"
	"        return self._%v.get(key)\n",

	"    try:\n"
	"        %v = %F(%v, timeout=%n)\n"
	"    except %e as exc:\n"
	"        logger.warning(\"%s: %%s\", exc)\n"
	"        return None\n"
	"    return %v\n",

	"import json\n"
	"import logging\n"
	"from pathlib import Path\n"
	"\n"
	"from %J.%M import %F, %c\n"
	"\n"
	"logger = logging.getLogger(__name__)\n",

	"def test_%F(tmp_path):\n"
	"    %v = %c(tmp_path / \"%v.json\")\n"
	"    %v.%F()\n"
	"    assert %v.%v == %n\n"
	"    assert not %v.%v\n",

	"    with open(path, \"r\", encoding=\"utf-8\") as fh:\n"
	"        data = json.load(fh)\n"
	"    %v = data.get(\"%v\", [])\n"
	"    if len(%v) > %n:\n"
	"        %v = %v[:%n]\n",

	"@pytest.mark.parametrize(\"%v\", [%n, %n, %n])\n"
	"def test_%F_%v(%v):\n"
	"    assert %F(%v) is not None\n",

	"    for index, %v in enumerate(self.%v):\n"
	"        if %v.status == \"%A\":\n"
	"            self.%F(index)\n"
	"            break\n"
	"    else:\n"
	"        raise %e(f\"no %A %T in {self.%v!r}\")\n",

	"@dataclass\n"
	"class %c:\n"
	"    %v: str\n"
	"    %v: int = %n\n"
	"    %v: list[str] = field(default_factory=list)\n"
	"    %v: Optional[dict] = None\n",

	"-    %v = %F(%v)\n"
	"+    %v = %F(%v, strict=True)\n"
	"+    if not %v:\n"
	"+        return None\n",
};

/* How generated functions begin (code_block() in text.c adds a body of
 * statements and a return). */
const char *const sl_wl_code_heads[] = {
	"def %F(%v, %v=None):\n    \"\"\"%s.\"\"\"\n",
	"def %F(self, %v, *, %v=%n):\n",
	"async def %F(self, %v):\n    \"\"\"%s.\n\n    Returns %a %A %T.\n    \"\"\"\n",
	"def test_%F_%v(tmp_path, %v):\n",
	"def _%F(%v: %c, %v: int = %n) -> %c:\n",
	"@pytest.fixture\ndef %v(tmp_path):\n",
};

/* Statements of a generated function body, indented one level. */
const char *const sl_wl_code_stmts[] = {
	"    %v = %F(%v, %v)\n",
	"    if %v is None:\n        %v = %n\n",
	"    for %v in self.%v:\n        %v.%F(%v)\n",
	"    logger.debug(\"%s: %%s\", %v)\n",
	"    %v[\"%v\"] = %v.get(\"%v\", %n)\n",
	"    assert %v > %n, \"%s\"\n",
	"    with open(%v, encoding=\"utf-8\") as fh:\n        %v = fh.read()\n",
	"    %v += %n\n",
	"    # %s.\n",
	"    %v = [%v for %v in %v if %v.%v]\n",
	"    %v = self.%v.%F(%v=%v, timeout=%d)\n",
	"    try:\n        %v = %F(%v)\n    except %e:\n        %v = None\n",
	"    if not %v.%v:\n        raise %e(\"%s\")\n",
	"    %v = %c(%v=%v, %v=%n)\n",
	"    await self.%v.%F(%v)\n",
	"    %v = {%v: %v for %v, %v in %v.items()}\n",
	"    while %v < %n:\n        %v = %F(%v)\n",
	"    self._%v = %v or %c()\n",
};

/* One line of code inside a traceback frame. */
const char *const sl_wl_code_lines[] = {
	"result = %F(%v)",
	"return self.%F(%v, **kwargs)",
	"%v = %c(%v)",
	"raise %e(f\"%s: {%v}\")",
	"data = json.loads(%v)",
	"self.%v = self._%F(%v)",
	"value = %v[key]",
	"return await self.%F(request)",
	"assert %v == %n",
	"for item in self.%F():",
};

const char *const sl_wl_exceptions[] = {
	"ValueError", "KeyError", "TypeError", "AttributeError",
	"AssertionError", "RuntimeError", "FileNotFoundError", "IndexError",
	"TimeoutError", "json.decoder.JSONDecodeError", "ImportError",
	"sqlite3.OperationalError", "PermissionError", "ConnectionError",
};

/* Shell commands an agent runs; their output is made by text.c. */
const char *const sl_wl_commands[] = {
	"pytest -q %t", "pytest -x tests/", "ruff check src/%J",
	"mypy src/%J", "git diff --stat", "grep -rn \"%F\" src/",
	"python -m %J.%M --check", "ls src/%J", "git status --short",
	"git log --oneline -n 8",
};

/* Validation rules (names go into JSON unescaped). */
const char *const sl_wl_rules[] = {
	"tests_pass", "lint_clean", "types_check", "file_exists",
	"content_contains", "no_todo_left", "docs_updated", "coverage_ok",
	"format_clean", "changelog_entry", "build_succeeds", "schema_valid",
};

/* What a run learns (go into JSON unescaped). */
const char *const sl_wl_learned[] = {
	"run tests before lint", "read the fixture first", "retry after timeout",
	"split large files", "check imports early", "keep diffs small",
	"pin the tool version", "prefer explicit paths", "mock the network",
	"update docs with code", "validate json first", "avoid global state",
};

/* A failed sheet's message, one list per error category. */
const char *const sl_wl_fail_messages[] = {
	[SL_WL_CAT_RATE_LIMIT] = "Rate limit exceeded: retry after %n seconds",
	[SL_WL_CAT_TRANSIENT] = "Transient backend error: connection reset by peer",
	[SL_WL_CAT_VALIDATION] = "Validation failed: %n of %n checks did not pass",
	[SL_WL_CAT_AUTH] = "Authentication failed: API key rejected",
	[SL_WL_CAT_NETWORK] = "Network unreachable while contacting the backend",
	[SL_WL_CAT_TIMEOUT] = "Execution timed out after %n seconds",
	[SL_WL_CAT_SIGNAL] = "Process killed by signal",
	[SL_WL_CAT_FATAL] = "Fatal error: %e in %F",
	[SL_WL_CAT_CONFIGURATION] = "Invalid configuration: missing %T setting",
	[SL_WL_CAT_PREFLIGHT] = "Preflight check failed: workspace is dirty",
	[SL_WL_CAT_ESCALATION] = "Escalation required: %A %T needs review",
};

const char *const sl_wl_categories[] = {
	[SL_WL_CAT_RATE_LIMIT] = "rate_limit",
	[SL_WL_CAT_TRANSIENT] = "transient",
	[SL_WL_CAT_VALIDATION] = "validation",
	[SL_WL_CAT_AUTH] = "auth",
	[SL_WL_CAT_NETWORK] = "network",
	[SL_WL_CAT_TIMEOUT] = "timeout",
	[SL_WL_CAT_SIGNAL] = "signal",
	[SL_WL_CAT_FATAL] = "fatal",
	[SL_WL_CAT_CONFIGURATION] = "configuration",
	[SL_WL_CAT_PREFLIGHT] = "preflight",
	[SL_WL_CAT_ESCALATION] = "escalation",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
const size_t sl_wl_n_sentences = COUNT(sl_wl_sentences);
const size_t sl_wl_n_agent_sentences = COUNT(sl_wl_agent_sentences);
const size_t sl_wl_n_code = COUNT(sl_wl_code);
const size_t sl_wl_n_code_lines = COUNT(sl_wl_code_lines);
const size_t sl_wl_n_code_heads = COUNT(sl_wl_code_heads);
const size_t sl_wl_n_code_stmts = COUNT(sl_wl_code_stmts);
const size_t sl_wl_n_exceptions = COUNT(sl_wl_exceptions);
const size_t sl_wl_n_commands = COUNT(sl_wl_commands);
const size_t sl_wl_n_rules = COUNT(sl_wl_rules);
const size_t sl_wl_n_learned = COUNT(sl_wl_learned);
